import { describe, expect, it } from 'vitest';
import type { AppendMessage, Message } from '../../../src/raft/core/types.js';
import { Cluster, bytes } from './harness.js';

const appendsTo = (c: Cluster, to: string): AppendMessage[] =>
  c.sent.filter((m): m is AppendMessage => m.type === 'append' && m.to === to);

describe('log replication', () => {
  it('replicates proposals to every node and applies them in order', () => {
    const c = new Cluster(['a', 'b', 'c']);
    const leader = c.electLeader();
    for (let i = 0; i < 10; i++) expect(c.node(leader).core.propose(bytes(`v${i}`)).ok).toBe(true);
    c.settle();
    c.tick(2);
    const expected = Array.from({ length: 10 }, (_, i) => `v${i}`);
    for (const id of ['a', 'b', 'c']) expect(c.appliedData(id)).toEqual(expected);
  });

  it('batches entries within maxEntriesPerMsg and maxBytesPerMsg', () => {
    const c = new Cluster(['a', 'b', 'c'], { maxEntriesPerMsg: 4, maxBytesPerMsg: 250 });
    const leader = c.electLeader();
    const before = c.sent.length;
    for (let i = 0; i < 10; i++) c.node(leader).core.propose(bytes(`${i}`.padEnd(100, '.')));
    c.settle();
    const appends = c.sent.slice(before).filter((m): m is AppendMessage => m.type === 'append' && m.entries.length > 0);
    expect(appends.length).toBeGreaterThan(0);
    for (const m of appends) {
      expect(m.entries.length).toBeLessThanOrEqual(4);
      expect(m.entries.reduce((s, e) => s + e.data.byteLength, 0)).toBeLessThanOrEqual(250);
    }
    // All ten proposals travelled in one Ready's worth of pipelined batches, not one message each.
    const follower = ['a', 'b', 'c'].find((id) => id !== leader)!;
    expect(appends.filter((m) => m.to === follower).length).toBe(5);
    expect(c.appliedData(follower)).toHaveLength(10);
  });

  it('keeps at most maxInflight unacknowledged appends per follower', () => {
    const c = new Cluster(['a', 'b', 'c'], { maxInflight: 2, maxEntriesPerMsg: 1 });
    const leader = c.electLeader();
    c.tick(2);
    const slow = ['a', 'b', 'c'].find((id) => id !== leader)!;
    c.filter = (m: Message) => !(m.type === 'appendResponse' && m.from === slow);
    const before = appendsTo(c, slow).length;
    for (let i = 0; i < 6; i++) {
      c.node(leader).core.propose(bytes(`p${i}`));
      c.settle();
    }
    expect(appendsTo(c, slow).slice(before).filter((m) => m.entries.length > 0)).toHaveLength(2);
    expect(c.node(leader).core.status().progress.find((p) => p.id === slow)).toMatchObject({ state: 'replicate', inflight: 2 });
    // Once acknowledgements flow again the window drains and the follower catches up.
    c.filter = () => true;
    c.tick(4);
    expect(c.appliedData(slow)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5']);
  });

  it('overwrites a deposed leader’s uncommitted entries using conflict hints (few round trips)', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    c.isolate('a');
    for (let i = 0; i < 50; i++) c.node('a').core.propose(bytes(`lost${i}`));
    c.settle();
    // b leads term 3 and writes 50 entries; c then leads term 4, so its probe of a starts far ahead of a's log.
    c.campaign('b');
    for (let i = 0; i < 50; i++) c.node('b').core.propose(bytes(`kept${i}`));
    c.settle();
    c.campaign('c');
    expect(c.leader()).toBe('c');
    c.heal();
    c.tick(20);
    const rejects = c.sent.filter((m) => m.type === 'appendResponse' && m.from === 'a' && m.reject && m.index > 0);
    expect(rejects.length).toBeGreaterThan(0);
    expect(rejects.length).toBeLessThanOrEqual(2);
    const expected = Array.from({ length: 50 }, (_, i) => `kept${i}`);
    for (const id of ['a', 'b', 'c']) expect(c.appliedData(id)).toEqual(expected);
    const leaderLog = c.node('c').log;
    const oldLog = c.node('a').log;
    expect(oldLog.lastIndex()).toBe(leaderLog.lastIndex());
    for (let i = 1; i <= leaderLog.lastIndex(); i++) expect(oldLog.term(i)).toBe(leaderLog.term(i));
  });

  it('a follower missing many entries is caught up with one probe rejection', () => {
    const c = new Cluster(['a', 'b', 'c']);
    const leader = c.electLeader();
    const lagging = ['a', 'b', 'c'].find((id) => id !== leader)!;
    c.isolate(lagging);
    for (let i = 0; i < 30; i++) c.node(leader).core.propose(bytes(`e${i}`));
    c.settle();
    c.tick(1, [leader]);
    c.heal();
    c.tick(4);
    expect(c.appliedData(lagging)).toHaveLength(30);
  });
});

describe('commitment (Figure 8)', () => {
  /** Builds Figure 8 (c): s1 leads term 4 and has copied its term-2 entry to a majority. */
  function figure8(): Cluster {
    const ids = ['s1', 's2', 's3', 's4', 's5'];
    const c = new Cluster(ids, { maxEntriesPerMsg: 1 });
    c.campaign('s1');
    expect(c.leader()).toBe('s1');
    // (a) s1, term 2, gets index 3 onto s2 only.
    for (const other of ['s3', 's4', 's5']) c.partition('s1', other);
    c.node('s1').core.propose(bytes('x'));
    c.settle();
    expect(c.node('s2').log.term(3)).toBe(2);
    // (b) s1 is cut off; s5 wins term 3 with s3, s4 and appends index 3 without replicating it.
    c.isolate('s1');
    c.partition('s5', 's2');
    c.filter = (m) => !(m.from === 's5' && m.type === 'append');
    c.campaign('s5');
    expect(c.node('s5').core.status()).toMatchObject({ role: 'leader', term: 3 });
    c.node('s5').core.propose(bytes('y'));
    c.settle();
    // (c) s5 crashes; s1 restarts, wins term 4 and copies index 3 (term 2) to s3, but not its own no-op.
    c.heal();
    c.isolate('s5');
    c.restart('s5');
    c.restart('s1');
    c.filter = () => true;
    c.rewrite = (m) => (m.type === 'append' ? { ...m, entries: m.entries.filter((e) => e.term !== 4) } : m);
    c.campaign('s1');
    if (c.node('s1').core.status().role !== 'leader') c.campaign('s1');
    expect(c.node('s1').core.status()).toMatchObject({ role: 'leader', term: 4 });
    c.settle();
    return c;
  }

  it('a leader does not commit an earlier-term entry because a majority holds it', () => {
    const c = figure8();
    const holders = ['s1', 's2', 's3'].filter((id) => c.node(id).log.term(3) === 2);
    expect(holders).toHaveLength(3);
    expect(c.node('s1').core.status().commit).toBe(2);
  });

  it('so a later leader may overwrite it safely (Figure 8 d)', () => {
    const c = figure8();
    c.heal();
    c.isolate('s1');
    c.restart('s1');
    c.rewrite = (m) => m;
    c.campaign('s5');
    if (c.node('s5').core.status().role !== 'leader') c.campaign('s5');
    expect(c.leader()).toBe('s5');
    c.tick(2, ['s2', 's3', 's4', 's5']);
    for (const id of ['s2', 's3', 's4', 's5']) {
      expect(c.node(id).log.term(3)).toBe(3);
      expect(c.appliedData(id)).toEqual(['y']);
    }
    expect(c.appliedData('s1')).toEqual([]);
  });

  it('once an entry of its own term reaches a majority, the earlier entry commits with it (Figure 8 e)', () => {
    const c = figure8();
    c.rewrite = (m) => m;
    c.tick(2, ['s1', 's2', 's3', 's4']);
    expect(c.node('s1').core.status().commit).toBeGreaterThanOrEqual(4);
    for (const id of ['s1', 's2', 's3', 's4']) expect(c.appliedData(id)).toEqual(['x']);
  });
});

describe('uncommitted bytes cap', () => {
  it('drops proposals past the cap with a retryable result, and accepts again after commit', () => {
    const c = new Cluster(['a', 'b', 'c'], { maxUncommittedBytes: 100 });
    const leader = c.electLeader();
    c.tick(2);
    for (const id of ['a', 'b', 'c']) if (id !== leader) c.partition(leader, id);
    const core = c.node(leader).core;
    expect(core.propose(new Uint8Array(60)).ok).toBe(true);
    expect(core.propose(new Uint8Array(60))).toEqual({ ok: false, reason: 'dropped', leader, detail: 'too many uncommitted bytes' });
    expect(core.propose(new Uint8Array(40)).ok).toBe(true);
    expect(core.status().uncommittedBytes).toBe(100);
    c.settle();
    c.heal();
    c.tick(3);
    expect(core.status().uncommittedBytes).toBe(0);
    expect(core.propose(new Uint8Array(60)).ok).toBe(true);
  });

  it('always accepts one entry, even one larger than the cap, when nothing is uncommitted', () => {
    const c = new Cluster(['a', 'b', 'c'], { maxUncommittedBytes: 10 });
    const leader = c.electLeader();
    c.tick(2);
    expect(c.node(leader).core.propose(new Uint8Array(50)).ok).toBe(true);
    expect(c.node(leader).core.propose(new Uint8Array(1)).ok).toBe(false);
  });
});

describe('holdCommit', () => {
  const commitOf = (c: Cluster, id: string): number => c.node(id).core.status().commit;

  it('sends a new commit index with the next append, not in an empty append of its own', () => {
    const c = new Cluster(['a', 'b', 'c'], { holdCommit: true });
    const leader = c.electLeader();
    c.settle();
    const followers = ['a', 'b', 'c'].filter((id) => id !== leader);
    const before = c.sent.length;
    c.node(leader).core.propose(bytes('first'));
    c.settle();
    const first = c.node(leader).core.status().commit;
    expect(c.node(leader).core.holdsCommit()).toBe(true);
    // The followers hold the entry but were not told it committed, and no empty append went out.
    const empty = c.sent.slice(before).filter((m) => m.type === 'append' && m.entries.length === 0);
    expect(empty).toEqual([]);
    for (const id of followers) expect(commitOf(c, id)).toBeLessThan(first);
    // The next proposal's append carries it.
    c.node(leader).core.propose(bytes('second'));
    c.settle();
    for (const id of followers) expect(commitOf(c, id)).toBeGreaterThanOrEqual(first);
    for (const id of followers) expect(c.appliedData(id)).toContain('first');
  });

  it('sends a held commit index in empty appends once the driver asks (flushCommit)', () => {
    const c = new Cluster(['a', 'b', 'c'], { holdCommit: true });
    const leader = c.electLeader();
    c.settle();
    c.node(leader).core.propose(bytes('only'));
    c.settle();
    const commit = c.node(leader).core.status().commit;
    expect(c.node(leader).core.holdsCommit()).toBe(true);
    c.node(leader).core.flushCommit();
    expect(c.node(leader).core.holdsCommit()).toBe(false);
    c.settle();
    for (const id of ['a', 'b', 'c']) {
      expect(commitOf(c, id)).toBe(commit);
      expect(c.appliedData(id)).toEqual(['only']);
    }
  });
});
