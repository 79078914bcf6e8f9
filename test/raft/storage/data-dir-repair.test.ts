import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { moveDataDirAside } from '../../../src/raft/storage/data-dir-repair.js';
import { openDiskStorage } from '../../../src/raft/storage/disk-storage.js';
import { nodeStorageFs } from '../../../src/raft/storage/storage-fs.js';
import { WalCorruptError } from '../../../src/raft/storage/wal-errors.js';
import { REC_ENTRY } from '../../../src/raft/storage/wal-record.js';
import { diskFixture, entry, flipByte, rawRecords, segmentFiles } from './wal-files.js';

describe('moving a corrupt data directory aside', () => {
  const disk = diskFixture();

  it('lets a node that refuses to start on a corrupt WAL start empty, keeping the damaged files', async () => {
    const root = disk.root;
    const dir = join(root, 'n1');
    const storage = await disk.open(dir);
    await storage.stable.saveHardState({ term: 4, vote: 'n2', commit: 0 });
    for (let i = 1; i <= 5; i++) await storage.log.append([entry(i, 4)]);
    await disk.close();
    const [segment] = await segmentFiles(join(dir, 'wal'));
    const third = (await rawRecords(segment!)).filter((r) => r.type === REC_ENTRY)[2]!;
    await flipByte(segment!, third.end - 1);
    const damaged = await readFile(segment!);
    await expect(openDiskStorage(dir)).rejects.toBeInstanceOf(WalCorruptError);

    const synced: string[] = [];
    const fs = { ...nodeStorageFs, fsyncDir: async (d: string) => (synced.push(d), nodeStorageFs.fsyncDir(d)) };
    const aside = await moveDataDirAside(dir, { fs, now: new Date('2026-12-03T04:30:00.123Z') });
    expect(aside).toBe(join(root, 'n1.corrupt-2026-12-03T04-30-00-123Z'));
    expect(synced).toEqual([root]);
    const kept = await readFile(join(aside, 'wal', segment!.slice(join(dir, 'wal').length + 1)));
    expect(kept.equals(damaged)).toBe(true);

    const fresh = await disk.open(dir);
    expect([fresh.log.lastIndex(), fresh.stable.loadHardState()]).toEqual([0, { term: 0, vote: null, commit: 0 }]);
  });

  it('refuses a path that is not a directory, and a name already taken, moving nothing', async () => {
    const root = disk.root;
    await expect(moveDataDirAside(join(root, 'absent'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const dir = join(root, 'n1');
    const now = new Date('2026-12-03T04:30:00.000Z');
    await mkdir(join(root, 'n1.corrupt-2026-12-03T04-30-00-000Z'));
    await mkdir(dir);
    await expect(moveDataDirAside(dir, { now })).rejects.toMatchObject({ code: 'CONFLICT' });
    await expect(disk.open(dir)).resolves.toBeDefined();
  });
});
