import { randomBytes } from 'node:crypto';
import { dirname, join, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nodeStorageFs, type StorageFs } from '../../../src/raft/storage/storage-fs.js';
import { diskFixture, entry } from './wal-files.js';

const membership = { voters: [{ id: 'n1', address: '127.0.0.1:1' }], learners: [] };

/** A StorageFs that does the real thing and records every call, in order. */
function recordingFs(): { fs: StorageFs; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    fs: {
      ...nodeStorageFs,
      async mkdirp(dir) {
        calls.push(`mkdir ${dir}`);
        return nodeStorageFs.mkdirp(dir);
      },
      async fsyncDir(dir) {
        calls.push(`fsync ${dir}`);
        return nodeStorageFs.fsyncDir(dir);
      },
    },
  };
}

describe('durable directories', () => {
  const disk = diskFixture();

  it('fsyncs the parent of every directory it creates on first start, after creating it', async () => {
    const { fs, calls } = recordingFs();
    const root = disk.root;
    const dir = join(root, 'a', 'b', 'node');
    await disk.open(dir, { fs });
    const created = [join(root, 'a'), join(root, 'a', 'b'), dir, join(dir, 'wal'), join(dir, 'snapshots')];
    for (const d of created) {
      const made = calls.findIndex((c) => c.startsWith('mkdir ') && `${c.slice('mkdir '.length)}${sep}`.startsWith(`${d}${sep}`));
      const parentSynced = calls.lastIndexOf(`fsync ${dirname(d)}`);
      expect({ d, parentSyncedAfterMkdir: made >= 0 && parentSynced > made }).toEqual({ d, parentSyncedAfterMkdir: true });
    }
    // Once when wal/ is created, once more after the first segment is a new name in it.
    expect(calls.filter((c) => c === `fsync ${join(dir, 'wal')}`).length).toBeGreaterThanOrEqual(2);
  });

  it('fsyncs an existing data directory and its parent again on restart', async () => {
    const dir = join(disk.root, 'node');
    await disk.open(dir);
    const { fs, calls } = recordingFs();
    await disk.open(dir, { fs });
    for (const d of [disk.root, dir, join(dir, 'wal'), join(dir, 'snapshots')]) expect(calls).toContain(`fsync ${d}`);
  });

  it('fsyncs the WAL directory after a segment is created or deleted', async () => {
    const { fs, calls } = recordingFs();
    const dir = join(disk.root, 'node');
    const storage = await disk.open(dir, { fs, segmentBytes: 100, preallocateBytes: 0 });
    const wal = join(dir, 'wal');
    const before = calls.length;
    for (let i = 1; i <= 12; i++) await storage.log.append([entry(i, 1)]);
    expect(storage.log.stats().segments).toBeGreaterThan(2);
    const rotations = calls.slice(before).filter((c) => c === `fsync ${wal}`).length;
    expect(rotations).toBe(storage.log.stats().segments - 1);
    const segments = storage.log.stats().segments;
    const beforeCompact = calls.length;
    await storage.log.compact(11, 1);
    expect(storage.log.stats().segments).toBeLessThan(segments);
    expect(calls.slice(beforeCompact)).toContain(`fsync ${wal}`);
  });

  it('fsyncs the snapshot directory after sealing a snapshot and after retention deletes one', async () => {
    const { fs, calls } = recordingFs();
    const storage = await disk.open(join(disk.root, 'node'), { fs, snapshots: { retain: 1 } });
    const snaps = join(disk.root, 'node', 'snapshots');
    const take = async (index: number): Promise<void> => {
      const w = await storage.snapshots.create(index, 1, membership);
      await w.write(randomBytes(100));
      await w.commit();
    };
    await take(5);
    const mark = calls.length;
    await take(9);
    // One fsync after the rename that sealed it, one after retention deleted the older snapshot.
    expect(calls.slice(mark).filter((c) => c === `fsync ${snaps}`)).toHaveLength(2);
    expect(storage.snapshots.list().map((m) => m.index)).toEqual([9]);
  });
});
