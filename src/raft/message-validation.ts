/**
 * The trust boundary of Wire's Raft: every frame a peer sends is checked field by field before any of it
 * reaches the core, the snapshot installer or the sender. A frame that fails is dropped (and counted by
 * the node), never thrown: a peer's bytes are input, not a bug. What comes out is a fresh object holding
 * only the known fields, so nothing a peer added travels further (into the WAL or a snapshot file).
 * The header fields are copied one by one: an object spread with added fields takes V8's slow path in
 * Node 20 (~5 µs and ~2 KB of garbage per message, on every message received).
 */
import { decodeConfPayload } from './core/membership.js';
import { ENTRY_CONF_CHANGE, ENTRY_NORMAL, type Entry, type Member, type Membership, type Message, type NodeId, type SnapshotMeta } from './core/types.js';
import type { SnapshotAckMessage, SnapshotChunkMessage, WireMessage } from './snapshot/install-messages.js';

/** Longest node id and address accepted (UTF-16 units). */
export const MAX_ID_LENGTH = 256;
export const MAX_ADDRESS_LENGTH = 1024;
/** Longest ReadIndex context accepted. */
export const MAX_CTX_LENGTH = 1024;
/** Most members a membership may list (voters and learners together). */
export const MAX_MEMBERS = 1024;
/**
 * Largest term, index, size or offset accepted. The WAL stores them in 48 bits; a bound of 2^47 leaves
 * 2^47 elections (and entries) of headroom, so a term raised to the bound by a peer is still persisted.
 */
export const MAX_COUNT = 2 ** 47;

export interface ValidationContext {
  /** The sender, as the transport authenticated it (the connection's handshake, tied to its certificate under mTLS). */
  readonly from: NodeId;
  /** This node. */
  readonly self: NodeId;
}

export type Validated = { readonly ok: true; readonly message: WireMessage } | { readonly ok: false; readonly reason: string };

/** Thrown only inside this module, to unwind from a nested field; never escapes `validateWireMessage`. */
class Malformed extends Error {}

type Fields = Record<string, unknown>;

function fail(reason: string): never {
  throw new Malformed(reason);
}

function object(v: unknown, what: string): Fields {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) fail(`${what}: not an object`);
  return v as Fields;
}

/** A term, an index, a size, an offset: an integer in [0, MAX_COUNT]. NaN, Infinity, -1 and 1.5 are refused. */
function count(o: Fields, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_COUNT) fail(`${key}: not an integer in [0, 2^47]`);
  return v;
}

function bool(o: Fields, key: string): boolean {
  const v = o[key];
  if (typeof v !== 'boolean') fail(`${key}: not a boolean`);
  return v;
}

function text(o: Fields, key: string, max: number, allowEmpty = false): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length > max || (!allowEmpty && v.length === 0)) fail(`${key}: not a string of 1..${max} characters`);
  return v;
}

function bytes(o: Fields, key: string): Uint8Array {
  const v = o[key];
  if (!(v instanceof Uint8Array)) fail(`${key}: not binary`);
  return v;
}

function member(v: unknown): Member {
  const o = object(v, 'member');
  return { id: text(o, 'id', MAX_ID_LENGTH), address: text(o, 'address', MAX_ADDRESS_LENGTH) };
}

function members(v: unknown, what: string): Member[] {
  if (!Array.isArray(v)) fail(`${what}: not an array`);
  if (v.length > MAX_MEMBERS) fail(`${what}: more than ${MAX_MEMBERS} members`);
  return v.map(member);
}

function membership(v: unknown): Membership {
  const o = object(v, 'membership');
  const m = { voters: members(o.voters, 'voters'), learners: members(o.learners, 'learners') };
  const ids = new Set([...m.voters, ...m.learners].map((x) => x.id));
  if (ids.size !== m.voters.length + m.learners.length) fail('membership: a member is listed twice');
  if (ids.size > MAX_MEMBERS) fail(`membership: more than ${MAX_MEMBERS} members`);
  return m;
}

/** Snapshot metadata; `term` bounds its term (a leader cannot hold entries of a later term than its own). */
function snapshotMeta(v: unknown, term: number): SnapshotMeta {
  const o = object(v, 'snapshot');
  const meta: SnapshotMeta = {
    index: count(o, 'index'),
    term: count(o, 'term'),
    membership: membership(o.membership),
    size: count(o, 'size'),
    checksum: count(o, 'checksum'),
  };
  if (meta.index === 0 || meta.term === 0) fail('snapshot: index and term must be positive');
  if (meta.term > term) fail('snapshot: term beyond the sender term');
  if (meta.checksum > 0xffff_ffff) fail('snapshot: checksum is not a 32-bit value');
  if (meta.membership.voters.length === 0) fail('snapshot: membership without voters');
  return meta;
}

function entry(v: unknown): Entry {
  const o = object(v, 'entry');
  const type = o.type;
  if (type !== ENTRY_NORMAL && type !== ENTRY_CONF_CHANGE) fail('entry: unknown type');
  const e: Entry = { term: count(o, 'term'), index: count(o, 'index'), type, data: bytes(o, 'data') };
  if (type === ENTRY_CONF_CHANGE) {
    let op: string;
    try {
      op = decodeConfPayload(e.data).op;
    } catch {
      fail(`entry ${e.index}: malformed membership change`);
    }
    // Every founder writes the bootstrap entry itself; a peer never has a reason to send another one.
    if (op === 'bootstrap' && (e.index !== 1 || e.term !== 1)) fail(`entry ${e.index}: bootstrap entry not at index 1`);
  }
  return e;
}

/**
 * The entries of an append: contiguous from prevIndex + 1, terms non-decreasing from prevTerm, none of
 * a later term than the sender's (the core's log asserts exactly this shape, so it must hold here).
 */
function entries(v: unknown, prevIndex: number, prevTerm: number, term: number): Entry[] {
  if (!Array.isArray(v)) fail('entries: not an array');
  const out: Entry[] = new Array<Entry>(v.length);
  let lastTerm = prevTerm;
  for (let i = 0; i < v.length; i++) {
    const e = entry(v[i]);
    if (e.index !== prevIndex + 1 + i) fail('entries: not contiguous after prevIndex');
    if (e.term < lastTerm || e.term > term || e.term === 0) fail('entries: terms out of order');
    lastTerm = e.term;
    out[i] = e;
  }
  return out;
}

function coreMessage(o: Fields, base: { from: NodeId; to: NodeId; term: number }): Message {
  const { term } = base;
  switch (o.type) {
    case 'append': {
      const prevIndex = count(o, 'prevIndex');
      const prevTerm = count(o, 'prevTerm');
      if (prevTerm > term) fail('prevTerm beyond the sender term');
      if ((prevIndex === 0) !== (prevTerm === 0)) fail('prevIndex and prevTerm disagree about the empty log');
      return {
        from: base.from,
        to: base.to,
        term,
        type: 'append',
        prevIndex,
        prevTerm,
        entries: entries(o.entries, prevIndex, prevTerm, term),
        commit: count(o, 'commit'),
      };
    }
    case 'appendResponse':
      return {
        from: base.from,
        to: base.to,
        term: base.term,
        type: 'appendResponse',
        reject: bool(o, 'reject'),
        index: count(o, 'index'),
        hintIndex: count(o, 'hintIndex'),
        hintTerm: count(o, 'hintTerm'),
      };
    case 'heartbeat':
      return { from: base.from, to: base.to, term: base.term, type: 'heartbeat', commit: count(o, 'commit'), readRound: count(o, 'readRound') };
    case 'heartbeatResponse':
      return { from: base.from, to: base.to, term: base.term, type: 'heartbeatResponse', readRound: count(o, 'readRound') };
    case 'vote':
    case 'preVote': {
      const lastTerm = count(o, 'lastTerm');
      if (lastTerm > term) fail('lastTerm beyond the campaign term');
      return { from: base.from, to: base.to, term: base.term, type: o.type, lastIndex: count(o, 'lastIndex'), lastTerm, transfer: bool(o, 'transfer') };
    }
    case 'voteResponse':
    case 'preVoteResponse':
      return { from: base.from, to: base.to, term: base.term, type: o.type, reject: bool(o, 'reject') };
    case 'timeoutNow':
      return { from: base.from, to: base.to, term: base.term, type: 'timeoutNow' };
    case 'readIndex':
      return { from: base.from, to: base.to, term: base.term, type: 'readIndex', ctx: text(o, 'ctx', MAX_CTX_LENGTH) };
    case 'readIndexResponse':
      return { from: base.from, to: base.to, term: base.term, type: 'readIndexResponse', ctx: text(o, 'ctx', MAX_CTX_LENGTH), index: count(o, 'index') };
    default:
      // 'snapshot' is not accepted from the wire: the installer steps it into the core once the data is
      // sealed here, and a bare one would make the driver restore a snapshot it does not hold.
      return fail(`unknown message type ${JSON.stringify(String(o.type)).slice(0, 64)}`);
  }
}

function snapshotChunk(o: Fields, base: { from: NodeId; to: NodeId; term: number }): SnapshotChunkMessage {
  const snapshot = snapshotMeta(o.snapshot, base.term);
  const offset = count(o, 'offset');
  const data = bytes(o, 'data');
  if (offset + data.length > snapshot.size) fail('snapshotChunk: bytes beyond the declared size');
  return { from: base.from, to: base.to, term: base.term, type: 'snapshotChunk', snapshot, offset, data };
}

function snapshotAck(o: Fields, base: { from: NodeId; to: NodeId; term: number }): SnapshotAckMessage {
  const status = o.status;
  if (status !== 'progress' && status !== 'done' && status !== 'failed') fail('snapshotAck: unknown status');
  return {
    from: base.from,
    to: base.to,
    term: base.term,
    type: 'snapshotAck',
    index: count(o, 'index'),
    snapshotTerm: count(o, 'snapshotTerm'),
    received: count(o, 'received'),
    chunkOffset: count(o, 'chunkOffset'),
    status,
  };
}

/**
 * Checks a decoded frame from peer `ctx.from`: it must name that peer as its sender and this node as
 * its receiver, carry a valid term, and every field of its type must have the shape the core relies on.
 */
export function validateWireMessage(value: unknown, ctx: ValidationContext): Validated {
  try {
    const o = object(value, 'message');
    if (o.from !== ctx.from) fail('from: not the connection peer');
    if (o.to !== ctx.self) fail('to: not this node');
    const base = { from: ctx.from, to: ctx.self, term: count(o, 'term') };
    if (o.type === 'snapshotChunk') return { ok: true, message: snapshotChunk(o, base) };
    if (o.type === 'snapshotAck') return { ok: true, message: snapshotAck(o, base) };
    return { ok: true, message: coreMessage(o, base) };
  } catch (err) {
    if (err instanceof Malformed) return { ok: false, reason: err.message };
    throw err;
  }
}
