import { describe, expect, it } from 'vitest';
import { maxEntryBytes } from '../../../src/raft/core/message-size.js';
import type { AppendMessage } from '../../../src/raft/core/types.js';
import { encodeFrame } from '../../../src/raft/transport/frame.js';
import { Cluster } from './harness.js';

const LIMIT = 256 * 1024;

describe('append messages under the frame limit (maxMessageBytes)', () => {
  it('refuses a proposal that could not travel in an append of its own, before anything is appended', () => {
    const c = new Cluster(['a', 'b', 'c'], { maxMessageBytes: LIMIT });
    const leader = c.electLeader();
    const last = c.node(leader).core.status().lastIndex;
    const r = c.node(leader).core.propose(new Uint8Array(LIMIT));
    expect(r).toMatchObject({ ok: false, reason: 'invalid' });
    expect(c.node(leader).core.status().lastIndex).toBe(last);
    expect(c.node(leader).core.propose(new Uint8Array(maxEntryBytes(LIMIT)))).toMatchObject({ ok: true });
  });

  it('cuts appends so each encodes within the limit, however large maxBytesPerMsg is', () => {
    const c = new Cluster(['a', 'b', 'c'], { maxMessageBytes: LIMIT, maxBytesPerMsg: 64 << 20 });
    const leader = c.electLeader();
    const before = c.sent.length;
    for (let i = 0; i < 8; i++) expect(c.node(leader).core.propose(new Uint8Array(100 * 1024).fill(i + 1)).ok).toBe(true);
    c.settle();
    const appends = c.sent.slice(before).filter((m): m is AppendMessage => m.type === 'append' && m.entries.length > 0);
    expect(appends.length).toBeGreaterThan(0);
    for (const m of appends) expect(encodeFrame(m).length - 4).toBeLessThanOrEqual(LIMIT);
    for (const id of ['a', 'b', 'c']) expect(c.appliedData(id)).toHaveLength(8);
  });
});
