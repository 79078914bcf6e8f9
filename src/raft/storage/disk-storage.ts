/**
 * Opens everything a Raft node keeps on disk under one directory: `dir/wal` (the write-ahead log:
 * entries and hard state in one file set, so one Ready is one write and one fdatasync) and
 * `dir/snapshots` (files).
 */
import { join } from 'node:path';
import { RaftError } from '../errors.js';
import { FileSnapshotStore, type FileSnapshotStoreOptions } from '../snapshot/file-snapshot-store.js';
import { mkdirDurable, nodeStorageFs } from './storage-fs.js';
import { WalStore, type WalStoreOptions } from './wal-store.js';

export interface DiskStorageOptions extends WalStoreOptions {
  /** Snapshot store options (it uses the WAL's `fs` unless given its own). */
  snapshots?: FileSnapshotStoreOptions;
}

export interface DiskStorage {
  /** The log and the stable store are one WAL. */
  readonly log: WalStore;
  readonly stable: WalStore;
  readonly snapshots: FileSnapshotStore;
  /** Flushes and closes the WAL and the snapshot store. */
  close(): Promise<void>;
}

/** Opens (creating if needed) a node's durable state. */
export async function openDiskStorage(dir: string, options: DiskStorageOptions = {}): Promise<DiskStorage> {
  const fs = options.fs ?? nodeStorageFs;
  await mkdirDurable(fs, dir);
  // Earlier versions kept the log in LMDB under `raft/`: starting empty beside it would forget votes and entries.
  if (await fs.exists(join(dir, 'raft'))) {
    throw new RaftError('INVALID_ARGUMENT', `${dir} holds a Raft log in the old LMDB format (${join(dir, 'raft')}); this version cannot read it`);
  }
  const wal = await WalStore.open(join(dir, 'wal'), options);
  let snapshots: FileSnapshotStore;
  try {
    snapshots = await FileSnapshotStore.open(join(dir, 'snapshots'), { fs, ...options.snapshots });
  } catch (err) {
    await wal.close();
    throw err;
  }
  let closed: Promise<void> | undefined;
  return {
    log: wal,
    stable: wal,
    snapshots,
    close() {
      closed ??= Promise.all([wal.close(), snapshots.close()]).then(() => undefined);
      return closed;
    },
  };
}
