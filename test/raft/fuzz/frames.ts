/**
 * Hostile frames for fuzzing a live node: valid frames of every message type, mutated field by field or
 * byte by byte, and plain random bytes. Deterministic for a seed.
 */
import { Packr } from 'msgpackr';
import { seeded } from '../core/harness.js';
import { encodeConfPayload } from '../../../src/raft/core/membership.js';
import { ENTRY_CONF_CHANGE, ENTRY_NORMAL, type Membership } from '../../../src/raft/core/types.js';
import type { WireMessage } from '../../../src/raft/snapshot/install-messages.js';

const packr = new Packr({ useRecords: false });

/** The core harness's seeded PRNG (mulberry32). */
export const prng = seeded;

/** What the attacker knows of its target, to make frames that get past the first checks. */
export interface Target {
  readonly from: string;
  readonly to: string;
  readonly term: number;
  readonly lastIndex: number;
  readonly membership: Membership;
}

const INTERESTING: readonly unknown[] = [
  Number.NaN,
  Infinity,
  -Infinity,
  -1,
  0,
  1,
  1.5,
  2 ** 31,
  2 ** 32,
  2 ** 47,
  2 ** 47 + 1,
  2 ** 48,
  2 ** 53,
  Number.MAX_VALUE,
  '',
  '1',
  'x'.repeat(5000),
  null,
  true,
  false,
  [],
  [1, 2, 3],
  {},
  { term: 1 },
  new Uint8Array(0),
  new Uint8Array(64),
];

/** One valid frame of every type the wire carries, plus the bare `snapshot` no peer may send. */
export function templates(t: Target): WireMessage[] {
  const base = { from: t.from, to: t.to, term: t.term };
  // Far past the target's log: an append can never match it, so a frame that wins the target over by a
  // higher term still writes nothing (a member that sends matching appends is a leader Raft must trust).
  const far = t.lastIndex + 1_000_000;
  const meta = { index: far, term: t.term, membership: t.membership, size: 64, checksum: 12345 };
  const conf = encodeConfPayload({ op: 'addLearner', member: { id: 'mallory', address: '127.0.0.1:1' } });
  return [
    {
      ...base,
      type: 'append',
      prevIndex: far,
      prevTerm: t.term,
      entries: [
        { term: t.term, index: far + 1, type: ENTRY_NORMAL, data: new Uint8Array([1, 2, 3]) },
        { term: t.term, index: far + 2, type: ENTRY_CONF_CHANGE, data: conf },
      ],
      commit: far + 2,
    },
    { ...base, type: 'appendResponse', reject: false, index: t.lastIndex, hintIndex: 0, hintTerm: 0 },
    { ...base, type: 'appendResponse', reject: true, index: t.lastIndex, hintIndex: 1, hintTerm: 1 },
    { ...base, type: 'heartbeat', commit: t.lastIndex, readRound: 1 },
    { ...base, type: 'heartbeatResponse', readRound: 1 },
    { ...base, type: 'vote', lastIndex: far, lastTerm: t.term, transfer: true },
    { ...base, type: 'preVote', term: t.term + 1, lastIndex: far, lastTerm: t.term, transfer: false },
    { ...base, type: 'voteResponse', reject: false },
    { ...base, type: 'preVoteResponse', reject: false },
    { ...base, type: 'snapshot', snapshot: meta },
    { ...base, type: 'timeoutNow' },
    { ...base, type: 'readIndex', ctx: 'mallory:1' },
    { ...base, type: 'readIndexResponse', ctx: 'mallory:1', index: t.lastIndex },
    { ...base, type: 'snapshotChunk', snapshot: meta, offset: 0, data: new Uint8Array(32) },
    { ...base, type: 'snapshotAck', index: t.lastIndex, snapshotTerm: t.term, received: 10, chunkOffset: 0, status: 'progress' },
  ];
}

type Node = Record<string, unknown> | unknown[];

/** Every object or array inside `v`, with `v` itself first. */
function containers(v: unknown, out: Node[] = []): Node[] {
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return out;
  out.push(v as Node);
  for (const child of Object.values(v)) containers(child, out);
  return out;
}

function deepCopy(v: unknown): unknown {
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) return v.map(deepCopy);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deepCopy(x)]));
  return v;
}

/** Changes one to three fields somewhere in a copy of `m`: a strange value, a nearby number, a deletion, an extra key. */
function mutateFields(m: WireMessage, random: () => number): unknown {
  const copy = deepCopy(m);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const times = 1 + Math.floor(random() * 3);
  for (let i = 0; i < times; i++) {
    const node = pick(containers(copy));
    const keys = Object.keys(node);
    const r = random();
    if (Array.isArray(node)) {
      if (r < 0.3) node.pop();
      else if (r < 0.6 && node.length > 0) node.push(deepCopy(pick(node)));
      else if (node.length > 0) node[Math.floor(random() * node.length)] = deepCopy(pick(INTERESTING));
      continue;
    }
    if (keys.length === 0 || r < 0.05) {
      // defineProperty makes '__proto__' an own key (as a decoder may produce), not a prototype change.
      Object.defineProperty(node, pick(['extra', '__proto__', 'constructor', 'type']), {
        value: deepCopy(pick(INTERESTING)),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      continue;
    }
    const key = pick(keys);
    const old = node[key];
    if (r < 0.15) delete node[key];
    else if (typeof old === 'number' && r < 0.6) node[key] = Math.max(0, old + pick([-2, -1, 1, 2, 1000]));
    else node[key] = deepCopy(pick(INTERESTING));
  }
  return copy;
}

function frame(payload: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, 4);
  return out;
}

function randomBytes(n: number, random: () => number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(random() * 256);
  return b;
}

/** Flips, deletes or inserts a few bytes of an encoded payload (the length prefix stays right). */
function mutateBytes(payload: Uint8Array, random: () => number): Uint8Array {
  const bytes = Array.from(payload);
  const times = 1 + Math.floor(random() * 4);
  for (let i = 0; i < times; i++) {
    const at = Math.floor(random() * (bytes.length + 1));
    const r = random();
    if (r < 0.6 && at < bytes.length) bytes[at] = Math.floor(random() * 256);
    else if (r < 0.8) bytes.splice(at, 1);
    else bytes.splice(at, 0, Math.floor(random() * 256));
  }
  return Uint8Array.from(bytes);
}

export type FrameKind = 'valid' | 'fields' | 'bytes' | 'random';

/** One length-prefixed frame of a kind chosen at random. */
export function hostileFrame(t: Target, random: () => number): { kind: FrameKind; frame: Buffer } {
  const all = templates(t);
  const m = all[Math.floor(random() * all.length)]!;
  const r = random();
  if (r < 0.1) return { kind: 'valid', frame: frame(packr.pack(m)) };
  if (r < 0.6) return { kind: 'fields', frame: frame(packr.pack(mutateFields(m, random))) };
  if (r < 0.85) return { kind: 'bytes', frame: frame(mutateBytes(packr.pack(m), random)) };
  return { kind: 'random', frame: frame(randomBytes(Math.floor(random() * 96), random)) };
}

/** `value` as one length-prefixed msgpack frame. */
export function frameOf(value: unknown): Buffer {
  return frame(packr.pack(value));
}

export function handshakeFrame(id: string, cluster: string): Buffer {
  return frameOf({ protocol: 'wire-raft/1', id, cluster, address: '127.0.0.1:1' });
}
