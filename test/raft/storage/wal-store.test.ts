import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENTRY_CONF_CHANGE } from '../../../src/raft/core/types.js';
import { openDiskStorage } from '../../../src/raft/storage/disk-storage.js';
import { segmentPath } from '../../../src/raft/storage/wal-segments.js';
import { nodeStorageFs, type StorageFs } from '../../../src/raft/storage/storage-fs.js';
import { entry, range, tempDir, text, walFixture } from './wal-files.js';

describe('WAL log and stable store', () => {
  const wal = walFixture();
  const { reopen } = wal;

  it('starts empty', async () => {
    const log = await reopen();
    expect(log.firstIndex()).toBe(1);
    expect(log.lastIndex()).toBe(0);
    expect(log.term(0)).toBe(0);
    expect(log.loadHardState()).toEqual({ term: 0, vote: null, commit: 0 });
    expect(log.openReport).toEqual({ truncated: 0, truncatedBytes: 0 });
  });

  it('appends and reads entries, byte-limited', async () => {
    const log = await reopen();
    await log.append(range(1, 10, 1));
    expect(log.lastIndex()).toBe(10);
    expect(log.entries(3, 6).map((e) => e.index)).toEqual([3, 4, 5]);
    expect(log.entries(1, 11, 1).length).toBe(1);
    expect(log.entries(1, 11, 5).map(text)).toEqual(['e1', 'e2']);
    expect(log.term(10)).toBe(1);
    expect(log.entries(7, 8)[0]?.type).toBe(ENTRY_CONF_CHANGE);
    expect(() => log.entries(5, 12)).toThrow(/beyond/);
  });

  it('refuses appends that leave a gap or are not contiguous', async () => {
    const log = await reopen();
    await log.append(range(1, 3, 1));
    await expect(log.append([entry(5, 1)])).rejects.toThrow(/gap/);
    await expect(log.append([entry(4, 1), entry(6, 1)])).rejects.toThrow(/contiguous/);
    expect(log.lastIndex()).toBe(3);
  });

  it('truncates a conflicting suffix when appending inside the log', async () => {
    const log = await reopen();
    await log.append(range(1, 10, 1));
    await log.append([entry(6, 2, 'x6'), entry(7, 2, 'x7')]);
    expect(log.lastIndex()).toBe(7);
    expect(log.entries(5, 8).map(text)).toEqual(['e5', 'x6', 'x7']);
    const reopened = await reopen();
    expect(reopened.lastIndex()).toBe(7);
    expect(reopened.entries(5, 8).map(text)).toEqual(['e5', 'x6', 'x7']);
    expect(reopened.entries(6, 8).map((e) => e.term)).toEqual([2, 2]);
  });

  it('reads entries back from disk after the cache evicts them', async () => {
    const log = await reopen({ cacheEntries: 5 });
    for (let i = 1; i <= 50; i += 10) await log.append(range(i, i + 9, 3));
    expect(log.entries(1, 51).map(text)).toEqual(range(1, 50, 3).map(text));
    expect(log.term(2)).toBe(3);
    await log.append([entry(2, 4, 'deep')]);
    expect(log.lastIndex()).toBe(2);
    expect(log.entries(1, 3).map(text)).toEqual(['e1', 'deep']);
    const again = await reopen({ cacheEntries: 1 });
    expect(again.entries(1, 3).map(text)).toEqual(['e1', 'deep']);
  });

  it('keeps entries, hard state and compaction point across reopen', async () => {
    const first = await reopen();
    await Promise.all([first.append(range(1, 20, 2)), first.saveHardState({ term: 2, vote: 'n2', commit: 15 })]);
    await first.compact(12, 2);
    const log = await reopen();
    expect(log.loadHardState()).toEqual({ term: 2, vote: 'n2', commit: 15 });
    expect(log.firstIndex()).toBe(13);
    expect(log.lastIndex()).toBe(20);
    expect(log.term(12)).toBe(2);
    expect(log.term(11)).toBeUndefined();
    expect(() => log.entries(12, 14)).toThrow(/compacted/);
    expect(log.entries(13, 21).map((e) => e.index)).toEqual(range(13, 20, 2).map((e) => e.index));
  });

  it('compaction past the last index and reset leave only a compaction point', async () => {
    const log = await reopen();
    await log.append(range(1, 5, 1));
    await log.compact(9, 3);
    expect([log.firstIndex(), log.lastIndex(), log.term(9)]).toEqual([10, 9, 3]);
    await log.append(range(10, 12, 4));
    await log.reset(100, 5);
    expect([log.firstIndex(), log.lastIndex(), log.term(100)]).toEqual([101, 100, 5]);
    await log.append([entry(101, 5)]);
    const again = await reopen();
    expect([again.firstIndex(), again.lastIndex(), again.term(100), again.term(101)]).toEqual([101, 101, 5, 5]);
  });

  it('writes the entries and hard state issued in one turn with one write and one fsync', async () => {
    const log = await reopen();
    const before = log.stats();
    await Promise.all([log.append(range(1, 3, 1)), log.saveHardState({ term: 1, vote: 'n1', commit: 0 }), log.append([entry(4, 1)])]);
    expect(log.stats().writes - before.writes).toBe(1);
    expect(log.stats().syncs - before.syncs).toBe(1);
    const again = await reopen();
    expect(again.lastIndex()).toBe(4);
    expect(again.loadHardState()).toEqual({ term: 1, vote: 'n1', commit: 0 });
  });

  it('queues writes issued while a flush is in flight into the next one, in order', async () => {
    const log = await reopen();
    const before = log.stats();
    const first = log.append(range(1, 10, 1));
    await Promise.resolve();
    await Promise.resolve();
    const second = log.append([entry(5, 2, 'x5')]);
    const third = log.saveHardState({ term: 2, vote: null, commit: 4 });
    await Promise.all([first, second, third]);
    expect(log.stats().writes - before.writes).toBe(2);
    expect(log.stats().syncs - before.syncs).toBe(2);
    const again = await reopen();
    expect(again.entries(1, 6).map(text)).toEqual(['e1', 'e2', 'e3', 'e4', 'x5']);
    expect(again.loadHardState().commit).toBe(4);
  });

  it('holds a commit-index-only hard state for the next synced write: no write or fsync of its own', async () => {
    const log = await reopen();
    await log.append(range(1, 5, 1));
    const before = log.stats();
    let written = false;
    const commitOnly = log.saveHardState({ term: 1, vote: null, commit: 5 }, { sync: false }).then(() => (written = true));
    for (let turn = 0; turn < 5; turn++) await new Promise((r) => setImmediate(r));
    expect(written).toBe(false);
    expect(log.stats().writes - before.writes).toBe(0);
    expect(log.loadHardState().commit).toBe(5);
    await log.append([entry(6, 1)]);
    await commitOnly;
    expect(log.stats().writes - before.writes).toBe(1);
    expect(log.stats().syncs - before.syncs).toBe(1);
    expect((await reopen()).loadHardState().commit).toBe(5);
  });

  it('writes a held commit-index-only hard state at close', async () => {
    const log = await reopen();
    await log.append(range(1, 3, 1));
    const commitOnly = log.saveHardState({ term: 1, vote: null, commit: 3 }, { sync: false });
    await log.close();
    await commitOnly;
    expect((await reopen()).loadHardState().commit).toBe(3);
  });

  it('close waits for queued writes and then refuses new ones', async () => {
    const log = await reopen();
    const pending = log.append(range(1, 4, 1));
    await log.close();
    await pending;
    await expect(log.append([entry(5, 1)])).rejects.toThrow(/closed/);
    expect((await reopen()).lastIndex()).toBe(4);
  });

  it('fails every pending and later write once a write fails', async () => {
    const log = await reopen({ segmentBytes: 128, preallocateBytes: 0 });
    await log.append([entry(1, 1, 'x'.repeat(200))]);
    // The next write must start segment 2; a directory in its place makes creating it fail.
    await mkdir(segmentPath(wal.dir, 2));
    const failed = log.append([entry(2, 1)]);
    await expect(failed).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(log.saveHardState({ term: 1, vote: null, commit: 1 })).rejects.toMatchObject({ code: 'EEXIST' });
  });

  for (const how of ['through the thread pool', 'inline'] as const) {
    it(`fails for good when a durable write fails, ${how} (a failed O_DSYNC write is a failed fsync: never retried)`, async () => {
      let failNext = false;
      const eio = (): Error => Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
      const fs: StorageFs = {
        ...nodeStorageFs,
        open: async (path, flags) => {
          const file = await nodeStorageFs.open(path, flags);
          const writeDurable = file.writeDurable.bind(file);
          const writeDurableSync = file.writeDurableSync!.bind(file);
          file.writeDurable = (...args) => (failNext ? Promise.reject(eio()) : writeDurable(...args));
          file.writeDurableSync = (...args) => {
            if (failNext) throw eio();
            return writeDurableSync(...args);
          };
          return file;
        },
      };
      const log = await reopen({ fs, inlineWriteBytes: how === 'inline' ? 1024 : 0 });
      await log.append([entry(1, 1)]);
      failNext = true;
      await expect(log.append([entry(2, 1)])).rejects.toMatchObject({ code: 'EIO' });
      failNext = false;
      await expect(log.append([entry(2, 1)])).rejects.toMatchObject({ code: 'EIO' });
      await expect(log.saveHardState({ term: 1, vote: null, commit: 1 })).rejects.toMatchObject({ code: 'EIO' });
    });
  }

  /** An fs that records which call made each durable write (`inline` or `pool`), optionally slowing the inline one. */
  const recordingFs = (calls: string[], inlineDelayMs = 0): StorageFs => ({
    ...nodeStorageFs,
    open: async (path, flags) => {
      const file = await nodeStorageFs.open(path, flags);
      const writeDurable = file.writeDurable.bind(file);
      const writeDurableSync = file.writeDurableSync!.bind(file);
      file.writeDurable = (...args) => {
        calls.push('pool');
        return writeDurable(...args);
      };
      file.writeDurableSync = (...args) => {
        calls.push('inline');
        const until = performance.now() + inlineDelayMs;
        while (performance.now() < until); // a disk that takes this long
        return writeDurableSync(...args);
      };
      return file;
    },
  });

  it('makes a small durable write on the calling thread and a larger one through the thread pool', async () => {
    const calls: string[] = [];
    const log = await reopen({ fs: recordingFs(calls), inlineWriteBytes: 512, preallocateBytes: 0 });
    // The seal written at open is a few dozen bytes: inline.
    expect(calls).toEqual(['inline']);
    await log.append([entry(1, 1, 'x'.repeat(600))]);
    expect(calls).toEqual(['inline', 'pool']);
    await log.close();
    const again = await reopen();
    expect(again.entries(1, 2).map(text)).toEqual(['x'.repeat(600)]);
  });

  it('sends durable writes back to the thread pool after a slow inline one', async () => {
    const calls: string[] = [];
    const log = await reopen({ fs: recordingFs(calls, 5), inlineWriteBytes: 512, preallocateBytes: 0 });
    expect(calls).toEqual(['inline']);
    await log.append([entry(1, 1, 'small')]);
    await log.append([entry(2, 1, 'small')]);
    expect(calls).toEqual(['inline', 'pool', 'pool']);
  });

  it('writes an append submitted in the background through the thread pool, started in the next microtask', async () => {
    const calls: string[] = [];
    const log = await reopen({ fs: recordingFs(calls), inlineWriteBytes: 512, preallocateBytes: 0 });
    expect(calls).toEqual(['inline']);
    const written = log.append([entry(1, 1, 'small')], { background: true });
    // The caller (a leader about to send its appends) yields once: its write must be on its way by then.
    await Promise.resolve();
    expect(calls).toEqual(['inline', 'pool']);
    await written;
    await log.close();
    expect((await reopen()).entries(1, 2).map(text)).toEqual(['small']);
  });

  it('never writes inline with inlineWriteBytes 0', async () => {
    const calls: string[] = [];
    const log = await reopen({ fs: recordingFs(calls), inlineWriteBytes: 0 });
    await log.append([entry(1, 1, 'small')]);
    expect(calls).toEqual(['pool', 'pool']);
  });
});

describe('openDiskStorage', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the log and the hard state from one WAL', async () => {
    const storage = await openDiskStorage(dir);
    await Promise.all([storage.log.append(range(1, 2, 1)), storage.stable.saveHardState({ term: 1, vote: 'a', commit: 1 })]);
    expect(storage.log.stats().writes).toBe(2);
    await storage.close();
    await storage.close();
    const again = await openDiskStorage(dir);
    expect([again.log.lastIndex(), again.stable.loadHardState().vote]).toEqual([2, 'a']);
    await again.close();
  });

  it('refuses a directory holding a log in the old LMDB format', async () => {
    await mkdir(join(dir, 'raft'));
    await expect(openDiskStorage(dir)).rejects.toThrow(/old LMDB format/);
  });
});
