import { describe, expect, it } from 'vitest';
import { ENTRY_NORMAL, type Entry } from '../../src/raft/core/types.js';
import { SimDisk } from './disk.js';
import { Prng } from './prng.js';

const entry = (index: number, term: number): Entry => ({ index, term, type: ENTRY_NORMAL, data: new Uint8Array([index, term, 7, 7, 7]) });

describe('simulated disk: crash and recovery', () => {
  it('keeps every synced record and the hard state across a crash', () => {
    const disk = new SimDisk();
    disk.write({ kind: 'append', entries: [entry(1, 1), entry(2, 1)] });
    disk.write({ kind: 'hardState', hs: { term: 1, vote: 'n1', commit: 2 } });
    disk.syncThrough(disk.written);
    disk.crash(new Prng(1), 1);
    const r = disk.recover();
    expect(r.log.lastIndex()).toBe(2);
    expect(r.hardState).toEqual({ term: 1, vote: 'n1', commit: 2 });
    expect(r.tornDropped).toBe(false);
  });

  it('detects a torn unsynced record by its checksum and drops it and everything after', () => {
    let sawTorn = false;
    for (let seed = 0; seed < 50; seed++) {
      const disk = new SimDisk();
      disk.write({ kind: 'append', entries: [entry(1, 1)] });
      disk.syncThrough(disk.written);
      disk.write({ kind: 'append', entries: [entry(2, 1), entry(3, 1)] });
      disk.write({ kind: 'hardState', hs: { term: 2, vote: null, commit: 1 } });
      const crash = disk.crash(new Prng(seed), 1);
      const r = disk.recover();
      expect(r.tornDropped).toBe(crash.torn);
      // Whatever survived is a prefix of what was written; synced data is always there.
      expect(r.log.lastIndex()).toBe(crash.survived >= 1 ? 3 : 1);
      expect(r.hardState.term).toBe(crash.survived >= 2 ? 2 : 0);
      sawTorn ||= crash.torn;
      // Recovery truncated the torn tail: a second recovery finds nothing torn.
      expect(disk.recover().tornDropped).toBe(false);
    }
    expect(sawTorn).toBe(true);
  });

  it('replays overwrites, compaction and a snapshot install', () => {
    const disk = new SimDisk();
    disk.write({ kind: 'append', entries: [entry(1, 1), entry(2, 1), entry(3, 1)] });
    disk.write({ kind: 'append', entries: [entry(2, 2)] });
    disk.syncThrough(disk.written);
    let r = disk.recover();
    expect([r.log.lastIndex(), r.log.term(2)]).toEqual([2, 2]);
    const meta = { index: 10, term: 3, membership: { voters: [], learners: [] }, size: 1, checksum: 0 };
    disk.installSnapshot({ meta, data: new Uint8Array([1]) }, { term: 3, vote: null, commit: 10 });
    disk.write({ kind: 'append', entries: [entry(11, 3)] });
    disk.crash(new Prng(3), 0);
    r = disk.recover();
    expect(r.snapshot?.meta.index).toBe(10);
    expect(r.log.firstIndex()).toBe(11);
    expect(r.log.term(10)).toBe(3);
    expect(r.hardState.commit).toBe(10);
  });
});
