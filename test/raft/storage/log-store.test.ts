import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENTRY_CONF_CHANGE, ENTRY_NORMAL, type Entry } from '../../../src/raft/core/types.js';
import { openDiskStorage, openRaftLmdb, type DiskStorage } from '../../../src/raft/storage/disk-storage.js';
import { encodeEntry } from '../../../src/raft/storage/record-codec.js';

const entry = (index: number, term: number, text = `e${index}`): Entry => ({
  index,
  term,
  type: index % 7 === 0 ? ENTRY_CONF_CHANGE : ENTRY_NORMAL,
  data: new TextEncoder().encode(text),
});
const range = (lo: number, hi: number, term: number): Entry[] => Array.from({ length: hi - lo + 1 }, (_, i) => entry(lo + i, term));
const text = (e: Entry): string => new TextDecoder().decode(e.data);

describe('LMDB log and stable store', () => {
  let dir: string;
  let storage: DiskStorage | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wire-raft-log-'));
  });
  afterEach(async () => {
    await storage?.close();
    storage = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  const reopen = async (options = {}): Promise<DiskStorage> => {
    await storage?.close();
    storage = await openDiskStorage(dir, options);
    return storage;
  };

  it('starts empty', async () => {
    const { log, stable } = await reopen();
    expect(log.firstIndex()).toBe(1);
    expect(log.lastIndex()).toBe(0);
    expect(log.term(0)).toBe(0);
    expect(stable.loadHardState()).toEqual({ term: 0, vote: null, commit: 0 });
  });

  it('appends and reads entries, byte-limited', async () => {
    const { log } = await reopen();
    await log.append(range(1, 10, 1));
    expect(log.lastIndex()).toBe(10);
    expect(log.entries(3, 6).map((e) => e.index)).toEqual([3, 4, 5]);
    expect(log.entries(1, 11, 1).length).toBe(1);
    expect(log.entries(1, 11, 5).map(text)).toEqual(['e1', 'e2']);
    expect(log.term(10)).toBe(1);
    expect(log.entries(7, 8)[0]?.type).toBe(ENTRY_CONF_CHANGE);
    expect(() => log.entries(5, 12)).toThrow(/beyond/);
  });

  it('truncates a conflicting suffix when appending inside the log', async () => {
    const { log } = await reopen();
    await log.append(range(1, 10, 1));
    await log.append([entry(6, 2, 'x6'), entry(7, 2, 'x7')]);
    expect(log.lastIndex()).toBe(7);
    expect(log.entries(5, 8).map(text)).toEqual(['e5', 'x6', 'x7']);
    await expect(log.append([entry(9, 2)])).rejects.toThrow(/gap/);
    const reopened = (await reopen()).log;
    expect(reopened.lastIndex()).toBe(7);
    expect(reopened.entries(6, 8).map((e) => e.term)).toEqual([2, 2]);
  });

  it('reads entries back from disk after the cache evicts them', async () => {
    const { log } = await reopen({ cacheEntries: 5 });
    await log.append(range(1, 50, 3));
    expect(log.entries(1, 51).map(text)).toEqual(range(1, 50, 3).map(text));
    await log.append([entry(2, 4, 'deep')]);
    expect(log.lastIndex()).toBe(2);
    expect(log.entries(1, 3).map(text)).toEqual(['e1', 'deep']);
  });

  it('keeps entries, hard state and compaction point across reopen', async () => {
    const first = await reopen();
    await Promise.all([first.log.append(range(1, 20, 2)), first.stable.saveHardState({ term: 2, vote: 'n2', commit: 15 })]);
    await first.log.compact(12, 2);
    const { log, stable } = await reopen();
    expect(stable.loadHardState()).toEqual({ term: 2, vote: 'n2', commit: 15 });
    expect(log.firstIndex()).toBe(13);
    expect(log.lastIndex()).toBe(20);
    expect(log.term(12)).toBe(2);
    expect(log.term(11)).toBeUndefined();
    expect(() => log.entries(12, 14)).toThrow(/compacted/);
    expect(log.entries(13, 21).map((e) => e.index)).toEqual(range(13, 20, 2).map((e) => e.index));
  });

  it('compaction past the last index and reset leave only a compaction point', async () => {
    const { log } = await reopen();
    await log.append(range(1, 5, 1));
    await log.compact(9, 3);
    expect([log.firstIndex(), log.lastIndex(), log.term(9)]).toEqual([10, 9, 3]);
    await log.append(range(10, 12, 4));
    await log.reset(100, 5);
    expect([log.firstIndex(), log.lastIndex(), log.term(100)]).toEqual([101, 100, 5]);
    await log.append([entry(101, 5)]);
    const again = (await reopen()).log;
    expect([again.firstIndex(), again.lastIndex(), again.term(100), again.term(101)]).toEqual([101, 101, 5, 5]);
  });

  it('truncates a corrupt tail on open and never returns it', async () => {
    const first = await reopen();
    await first.log.append(range(1, 10, 1));
    await first.close();
    storage = undefined;
    const root = openRaftLmdb(join(dir, 'raft'));
    const raw = root.openDB<Buffer, number>({ name: 'log', encoding: 'binary' });
    const torn = encodeEntry(entry(8, 1));
    torn[torn.length - 1] ^= 0xff;
    await raw.put(8, torn);
    await root.close();

    const { log } = await reopen();
    expect(log.openReport.truncated).toBe(3);
    expect(log.lastIndex()).toBe(7);
    expect(log.entries(1, 8).map(text)).toEqual(range(1, 7, 1).map(text));
    const after = (await reopen()).log;
    expect(after.lastIndex()).toBe(7);
    expect(after.openReport.truncated).toBe(0);
  });

  it('truncates at a gap or a misplaced record on open', async () => {
    const first = await reopen();
    await first.log.append(range(1, 6, 1));
    await first.close();
    storage = undefined;
    const root = openRaftLmdb(join(dir, 'raft'));
    const raw = root.openDB<Buffer, number>({ name: 'log', encoding: 'binary' });
    await raw.put(4, encodeEntry(entry(5, 1)));
    await root.close();
    const { log } = await reopen();
    expect(log.lastIndex()).toBe(3);
  });

  it('refuses to open a hard state that fails its checksum', async () => {
    const first = await reopen();
    await first.stable.saveHardState({ term: 7, vote: null, commit: 0 });
    await first.close();
    storage = undefined;
    const root = openRaftLmdb(join(dir, 'raft'));
    const meta = root.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' });
    const record = Buffer.from(meta.get('hardState')!);
    record[record.length - 1] ^= 0x01;
    await meta.put('hardState', record);
    await root.close();
    await expect(openDiskStorage(dir)).rejects.toMatchObject({ code: 'CORRUPT_STORAGE' });
  });
});
