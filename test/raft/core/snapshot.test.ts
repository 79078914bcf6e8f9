import { describe, expect, it } from 'vitest';
import type { SnapshotMessage } from '../../../src/raft/core/types.js';
import { Cluster, bytes } from './harness.js';

/** A cluster whose leader compacted past what `lagging` holds. */
function lagBehindCompaction(): { c: Cluster; leader: string; lagging: string } {
  const c = new Cluster(['a', 'b', 'c']);
  c.campaign('a');
  const leader = 'a';
  const lagging = 'c';
  c.isolate(lagging);
  c.partition(lagging, 'b');
  for (let i = 0; i < 20; i++) c.node(leader).core.propose(bytes(`s${i}`));
  c.settle();
  c.tick(1, [leader, 'b']);
  c.compact(leader);
  expect(c.node(leader).log.firstIndex()).toBeGreaterThan(c.node(lagging).log.lastIndex() + 1);
  return { c, leader, lagging };
}

describe('snapshots', () => {
  it('a follower behind the compaction point is sent a snapshot and catches up through it', () => {
    const { c, leader, lagging } = lagBehindCompaction();
    c.heal();
    c.tick(4);
    const snaps = c.sent.filter((m): m is SnapshotMessage => m.type === 'snapshot');
    expect(snaps).toHaveLength(1);
    expect(snaps[0]).toMatchObject({ from: leader, to: lagging });
    expect(c.node(lagging).snapshot?.index).toBe(snaps[0]!.snapshot.index);
    expect(c.appliedData(lagging)).toEqual(c.appliedData(leader));
    // Replication continues normally after the snapshot.
    c.node(leader).core.propose(bytes('after'));
    c.tick(2);
    expect(c.appliedData(lagging).at(-1)).toBe('after');
    expect(c.node(leader).core.status().progress.find((p) => p.id === lagging)?.state).toBe('replicate');
  });

  it('a failed snapshot send reported by the driver is retried', () => {
    const { c, leader, lagging } = lagBehindCompaction();
    c.heal();
    let dropped = 0;
    c.filter = (m) => {
      if (m.type === 'snapshot' && dropped === 0) {
        dropped++;
        return false;
      }
      return true;
    };
    c.tick(4);
    expect(c.node(leader).core.status().progress.find((p) => p.id === lagging)?.state).toBe('snapshot');
    c.node(leader).core.reportSnapshotFailure(lagging);
    c.tick(4);
    expect(c.sent.filter((m) => m.type === 'snapshot')).toHaveLength(2);
    expect(c.appliedData(lagging)).toEqual(c.appliedData(leader));
  });

  it('a lost acknowledgement of an installed snapshot is recovered without any report from the driver', () => {
    const { c, leader, lagging } = lagBehindCompaction();
    c.heal();
    let lost = false;
    c.filter = (m) => {
      // The first answer to the snapshot (an appendResponse from the lagging node) is lost.
      if (!lost && m.type === 'appendResponse' && m.from === lagging && c.node(lagging).snapshot !== undefined) {
        lost = true;
        return false;
      }
      return true;
    };
    c.tick(4);
    expect(lost).toBe(true);
    expect(c.node(leader).core.status().progress.find((p) => p.id === lagging)?.state).toBe('snapshot');
    c.node(leader).core.propose(bytes('later'));
    c.tick(25);
    expect(c.sent.filter((m) => m.type === 'snapshot')).toHaveLength(1);
    expect(c.node(leader).core.status().progress.find((p) => p.id === lagging)?.state).toBe('replicate');
    expect(c.appliedData(lagging)).toEqual(c.appliedData(leader));
  });

  it('a snapshot not newer than the commit index is ignored and answered with the commit index', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    for (let i = 0; i < 5; i++) c.node('a').core.propose(bytes(`v${i}`));
    c.tick(2);
    const b = c.node('b');
    const commit = b.core.status().commit;
    const before = b.log.lastIndex();
    const term = b.core.status().term;
    b.core.step({
      type: 'snapshot',
      from: 'a',
      to: 'b',
      term,
      snapshot: { index: 3, term: 2, membership: b.core.status().membership, size: 0, checksum: 0 },
    });
    const rd = b.core.ready();
    expect(rd.snapshot).toBeUndefined();
    expect(rd.messages).toEqual([
      { type: 'appendResponse', from: 'b', to: 'a', term, reject: false, index: commit, hintIndex: 0, hintTerm: 0 },
    ]);
    b.core.advance(rd);
    expect(b.log.lastIndex()).toBe(before);
  });

  it('installing a snapshot discards a conflicting log and adopts the snapshot membership', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('c');
    c.isolate('c');
    // c writes entries in term 2 that never commit; a then leads term 3 and compacts past them.
    for (let i = 0; i < 3; i++) c.node('c').core.propose(bytes(`stale${i}`));
    c.settle();
    c.campaign('a');
    for (let i = 0; i < 10; i++) c.node('a').core.propose(bytes(`v${i}`));
    c.tick(2, ['a', 'b']);
    c.compact('a');
    c.restart('c');
    c.heal();
    c.tick(4);
    expect(c.sent.some((m) => m.type === 'snapshot' && m.to === 'c')).toBe(true);
    const cLog = c.node('c').log;
    const aLog = c.node('a').log;
    expect(cLog.lastIndex()).toBe(aLog.lastIndex());
    expect(cLog.term(cLog.lastIndex())).toBe(3);
    expect(c.appliedData('c')).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`));
    expect(c.node('c').core.status().membership.voters.map((v) => v.id)).toEqual(['a', 'b', 'c']);
  });

  it('a restarted node resumes from its snapshot and log', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    for (let i = 0; i < 8; i++) c.node('a').core.propose(bytes(`v${i}`));
    c.tick(2);
    c.compact('b');
    c.node('a').core.propose(bytes('tail'));
    c.tick(2);
    c.restart('b');
    c.settle();
    expect(c.appliedData('b')).toEqual([...Array.from({ length: 8 }, (_, i) => `v${i}`), 'tail']);
    expect(c.node('b').core.status()).toMatchObject({ snapshotIndex: c.node('b').snapshot!.index });
  });
});
