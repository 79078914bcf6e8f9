import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { encodeConfPayload } from '../../src/raft/core/membership.js';
import { ENTRY_NORMAL, type Entry, type Message } from '../../src/raft/core/types.js';
import { validateWireMessage } from '../../src/raft/message-validation.js';
import type { WireMessage } from '../../src/raft/snapshot/install-messages.js';
import { Cluster, bytes } from './core/harness.js';

const packr = new Packr({ useRecords: false });
const ctx = { from: 'a', self: 'b' };
const membership = { voters: [{ id: 'a', address: 'h:1' }], learners: [{ id: 'b', address: 'h:2' }] };
const meta = { index: 10, term: 2, membership, size: 100, checksum: 7 };
const entry = (index: number, term: number, data = bytes('x')): Entry => ({ index, term, type: ENTRY_NORMAL, data });

/** One valid message of every type that travels between nodes ('snapshot' itself never does). */
const valid: readonly WireMessage[] = [
  { type: 'append', from: 'a', to: 'b', term: 3, prevIndex: 4, prevTerm: 2, entries: [entry(5, 2), entry(6, 3)], commit: 4 },
  { type: 'appendResponse', from: 'a', to: 'b', term: 3, reject: true, index: 4, hintIndex: 2, hintTerm: 1 },
  { type: 'heartbeat', from: 'a', to: 'b', term: 3, commit: 4, readRound: 2 },
  { type: 'heartbeatResponse', from: 'a', to: 'b', term: 3, readRound: 2 },
  { type: 'vote', from: 'a', to: 'b', term: 3, lastIndex: 6, lastTerm: 3, transfer: false },
  { type: 'preVote', from: 'a', to: 'b', term: 4, lastIndex: 6, lastTerm: 3, transfer: true },
  { type: 'voteResponse', from: 'a', to: 'b', term: 3, reject: false },
  { type: 'preVoteResponse', from: 'a', to: 'b', term: 3, reject: true },
  { type: 'timeoutNow', from: 'a', to: 'b', term: 3 },
  { type: 'readIndex', from: 'a', to: 'b', term: 3, ctx: 'a:1' },
  { type: 'readIndexResponse', from: 'a', to: 'b', term: 3, ctx: 'b:1', index: 6 },
  { type: 'snapshotChunk', from: 'a', to: 'b', term: 3, snapshot: meta, offset: 50, data: new Uint8Array(50) },
  { type: 'snapshotAck', from: 'a', to: 'b', term: 3, index: 10, snapshotTerm: 2, received: 50, chunkOffset: 50, status: 'progress' },
];

const roundTrip = (m: unknown): unknown => packr.unpack(packr.pack(m));
const check = (m: unknown) => validateWireMessage(roundTrip(m), ctx);
const reasonFor = (m: unknown): string => {
  const v = check(m);
  return v.ok ? 'accepted' : v.reason;
};

describe('message validation at the trust boundary', () => {
  it('accepts one message of every type, unchanged after a msgpack round trip', () => {
    for (const m of valid) {
      const decoded = roundTrip(m);
      expect(validateWireMessage(decoded, ctx), m.type).toEqual({ ok: true, message: decoded });
    }
  });

  it('accepts every message a cluster of cores sends each other', () => {
    const c = new Cluster(['a', 'b', 'c'], { maxEntriesPerMsg: 4 });
    c.electLeader();
    for (let i = 0; i < 20; i++) c.node(c.leader()!).core.propose(bytes(`v${i}`));
    c.settle();
    c.node(c.leader()!).core.readIndex('r');
    c.node(c.leader()!).core.transferLeadership();
    c.tick(30);
    const sent = c.sent.filter((m: Message) => m.type !== 'snapshot');
    expect(new Set(sent.map((m) => m.type)).size).toBeGreaterThanOrEqual(8);
    for (const m of sent) {
      const decoded = roundTrip(m);
      expect(validateWireMessage(decoded, { from: m.from, self: m.to })).toEqual({ ok: true, message: decoded });
    }
  });

  it('refuses a term or index that is not a finite non-negative integer', () => {
    const heartbeat = valid[2]!;
    for (const term of [Number.NaN, Infinity, -1, 1.5, 2 ** 47 + 1, 2 ** 53, '3', null]) {
      expect(reasonFor({ ...heartbeat, term })).toMatch(/^term: not an integer in \[0, 2\^47\]/);
    }
    expect(reasonFor({ ...heartbeat, commit: Number.NaN })).toMatch(/^commit:/);
    expect(reasonFor({ ...valid[1]!, hintIndex: -5 })).toMatch(/^hintIndex:/);
  });

  it('refuses a message that names another sender or receiver than the connection', () => {
    expect(reasonFor({ ...valid[2]!, from: 'c' })).toMatch(/^from:/);
    expect(reasonFor({ ...valid[2]!, to: 'c' })).toMatch(/^to:/);
  });

  it('refuses unknown types, and a bare snapshot message (only the installer may step one)', () => {
    expect(reasonFor({ ...valid[2]!, type: 'evil' })).toMatch(/unknown message type/);
    expect(reasonFor({ type: 'snapshot', from: 'a', to: 'b', term: 3, snapshot: meta })).toMatch(/unknown message type/);
    for (const v of [null, 5, 'x', [], new Uint8Array(3)]) expect(validateWireMessage(v, ctx).ok).toBe(false);
  });

  it('refuses entries of the wrong shape or order', () => {
    const append = valid[0] as Extract<WireMessage, { type: 'append' }>;
    const withEntries = (entries: unknown) => ({ ...append, entries });
    expect(reasonFor(withEntries('nope'))).toMatch(/entries: not an array/);
    expect(reasonFor(withEntries([entry(6, 2)]))).toMatch(/not contiguous/);
    expect(reasonFor(withEntries([entry(5, 3), entry(6, 2)]))).toMatch(/terms out of order/);
    expect(reasonFor(withEntries([entry(5, 1)]))).toMatch(/terms out of order/);
    expect(reasonFor(withEntries([entry(5, 4)]))).toMatch(/terms out of order/);
    expect(reasonFor(withEntries([{ ...entry(5, 2), type: 7 }]))).toMatch(/entry: unknown type/);
    expect(reasonFor(withEntries([{ ...entry(5, 2), data: 'text' }]))).toMatch(/data: not binary/);
    expect(reasonFor(withEntries([{ ...entry(5, 2), type: 1, data: bytes('{not json') }]))).toMatch(/malformed membership change/);
    const bootstrap = encodeConfPayload({ op: 'bootstrap', membership });
    expect(reasonFor(withEntries([{ ...entry(5, 2), type: 1, data: bootstrap }]))).toMatch(/bootstrap entry not at index 1/);
    expect(reasonFor({ ...append, prevTerm: 9 })).toMatch(/prevTerm beyond/);
    expect(reasonFor({ ...append, prevIndex: 0, prevTerm: 2, entries: [] })).toMatch(/empty log/);
  });

  it('refuses snapshot metadata and chunks that do not add up', () => {
    const chunk = valid[11] as Extract<WireMessage, { type: 'snapshotChunk' }>;
    expect(reasonFor({ ...chunk, offset: 60 })).toMatch(/beyond the declared size/);
    expect(reasonFor({ ...chunk, snapshot: { ...meta, size: -1 } })).toMatch(/^size:/);
    expect(reasonFor({ ...chunk, snapshot: { ...meta, checksum: 2 ** 32 } })).toMatch(/checksum/);
    expect(reasonFor({ ...chunk, snapshot: { ...meta, term: 4 } })).toMatch(/term beyond/);
    expect(reasonFor({ ...chunk, snapshot: { ...meta, membership: { voters: [membership.voters[0], membership.voters[0]], learners: [] } } })).toMatch(
      /listed twice/,
    );
    const many = Array.from({ length: 1025 }, (_, i) => ({ id: `n${i}`, address: 'h:1' }));
    expect(reasonFor({ ...chunk, snapshot: { ...meta, membership: { voters: many, learners: [] } } })).toMatch(/more than 1024/);
    expect(reasonFor({ ...chunk, snapshot: { ...meta, membership: { voters: [{ id: 'x'.repeat(300), address: 'h:1' }], learners: [] } } })).toMatch(
      /^id:/,
    );
    expect(reasonFor({ ...valid[12]!, status: 'maybe' })).toMatch(/unknown status/);
  });

  it('copies only the known fields', () => {
    const v = check({ ...valid[2]!, extra: 'x', __proto__: { polluted: true } });
    expect(v.ok && Object.keys(v.message).sort()).toEqual(['commit', 'from', 'readRound', 'term', 'to', 'type']);
  });
});
