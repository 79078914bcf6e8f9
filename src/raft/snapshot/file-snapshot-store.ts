/**
 * Snapshots as files in one directory (see snapshot-files.ts for the layout). On open, temp files and
 * unsealed data are removed and every sealed snapshot's data is checked against its size and CRC-32C;
 * ones that fail are deleted. The newest `retain` snapshots are kept (default 2), and any older one that
 * is pinned (a leader is streaming it to a follower) until it is released: it is deleted at the first
 * seal after that (or the next open).
 */
import { join } from 'node:path';
import type { Membership, SnapshotMeta } from '../core/types.js';
import type { SnapshotReceiver, SnapshotStore, SnapshotWriter } from '../ports.js';
import { CorruptStorageError, RaftError } from '../errors.js';
import { crc32c } from '../storage/crc32c.js';
import { mkdirDurable, nodeStorageFs, type StorageFs } from '../storage/storage-fs.js';
import { TEMP_PREFIX, checksumFile, dataFile, metaFile, readMetaFile, sealFiles, snapshotName } from './snapshot-files.js';
import { FileSnapshotReceiver, LocalSnapshotWriter } from './snapshot-writer.js';

export interface FileSnapshotStoreOptions {
  /** How many sealed snapshots to keep (default 2). */
  retain?: number;
  /** Bytes per chunk when streaming a snapshot with `open` (default 1 MiB). */
  readChunkBytes?: number;
  /** Where the files live (default: the process's file system). */
  fs?: StorageFs;
}

export interface SnapshotOpenReport {
  /** Sealed snapshots deleted on open because their data failed size or checksum. */
  discarded: SnapshotMeta[];
}

export class FileSnapshotStore implements SnapshotStore {
  private closed = false;
  /** Pins per snapshot (by file name); a pinned snapshot outlives retention. */
  private readonly pins = new Map<string, number>();

  private constructor(
    private readonly dir: string,
    /** Sealed snapshots, oldest first. */
    private sealed: SnapshotMeta[],
    private readonly retain: number,
    private readonly chunkBytes: number,
    private readonly fs: StorageFs,
    readonly openReport: SnapshotOpenReport,
  ) {}

  static async open(dir: string, options: FileSnapshotStoreOptions = {}): Promise<FileSnapshotStore> {
    const retain = options.retain ?? 2;
    if (!Number.isInteger(retain) || retain < 1) throw new RaftError('INVALID_ARGUMENT', 'snapshot retention must be at least 1');
    const fs = options.fs ?? nodeStorageFs;
    await mkdirDurable(fs, dir);
    const names = await fs.readdir(dir);
    const metas: SnapshotMeta[] = [];
    const discarded: SnapshotMeta[] = [];
    const keep = new Set<string>();
    for (const name of names.filter((n) => n.endsWith('.meta') && !n.startsWith(TEMP_PREFIX))) {
      const meta = await readMetaFile(fs, join(dir, name));
      if (!meta) continue;
      const actual = await checksumFile(fs, dataFile(dir, meta)).catch(() => undefined);
      if (!actual || actual.size !== meta.size || actual.checksum !== meta.checksum) {
        discarded.push(meta);
        continue;
      }
      metas.push(meta);
      keep.add(metaFile(dir, meta)).add(dataFile(dir, meta));
    }
    // Everything else (temp files, torn metas, data never sealed, corrupt snapshots) is garbage.
    const garbage = names.filter((name) => !keep.has(join(dir, name)));
    for (const name of garbage) await fs.rm(join(dir, name), { force: true });
    if (garbage.length > 0) await fs.fsyncDir(dir);
    metas.sort(compareMeta);
    const store = new FileSnapshotStore(dir, metas, retain, options.readChunkBytes ?? 1 << 20, fs, { discarded });
    await store.enforceRetention();
    return store;
  }

  latest(): SnapshotMeta | undefined {
    return this.sealed[this.sealed.length - 1];
  }

  /** Every sealed snapshot kept (the newest `retain` and any older pinned one), oldest first. */
  list(): readonly SnapshotMeta[] {
    return this.sealed;
  }

  create(index: number, term: number, membership: Membership): Promise<SnapshotWriter> {
    this.assertOpen();
    return LocalSnapshotWriter.open(this.fs, this.dir, (tmp, meta) => this.seal(tmp, meta), { index, term, membership });
  }

  receive(meta: SnapshotMeta): Promise<SnapshotReceiver> {
    this.assertOpen();
    return FileSnapshotReceiver.open(this.fs, this.dir, (tmp, m) => this.seal(tmp, m), meta);
  }

  async read(meta: SnapshotMeta, offset: number, length: number): Promise<Uint8Array> {
    this.assertOpen();
    const fh = await this.fs.open(dataFile(this.dir, meta), 'r');
    try {
      const want = Math.max(0, Math.min(length, meta.size - offset));
      const buf = Buffer.allocUnsafe(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, offset + got);
        if (bytesRead === 0) throw new CorruptStorageError(`snapshot ${meta.index}/${meta.term} shorter than its metadata`);
        got += bytesRead;
      }
      return buf;
    } finally {
      await fh.close();
    }
  }

  pin(meta: SnapshotMeta): () => void {
    this.assertOpen();
    const name = snapshotName(meta.index, meta.term);
    this.pins.set(name, (this.pins.get(name) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.pins.get(name)! - 1;
      if (left > 0) this.pins.set(name, left);
      else this.pins.delete(name);
    };
  }

  /** Snapshots pinned now (for tests and status: a count that only grows means a leak). */
  pinned(): number {
    return this.pins.size;
  }

  async *open(meta: SnapshotMeta): AsyncIterable<Uint8Array> {
    this.assertOpen();
    let crc = 0;
    let offset = 0;
    while (offset < meta.size) {
      const chunk = await this.read(meta, offset, this.chunkBytes);
      crc = crc32c(chunk, crc);
      offset += chunk.length;
      if (offset === meta.size && crc !== meta.checksum) {
        throw new CorruptStorageError(`snapshot ${meta.index}/${meta.term} fails its checksum`);
      }
      yield chunk;
    }
    if (meta.size === 0 && meta.checksum !== 0) throw new CorruptStorageError(`snapshot ${meta.index}/${meta.term} fails its checksum`);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async seal(tempData: string, meta: SnapshotMeta): Promise<void> {
    await sealFiles(this.fs, this.dir, tempData, meta);
    this.sealed = this.sealed.filter((m) => compareMeta(m, meta) !== 0);
    this.sealed.push(meta);
    this.sealed.sort(compareMeta);
    await this.enforceRetention();
  }

  private async enforceRetention(): Promise<void> {
    const old = this.sealed.slice(0, Math.max(0, this.sealed.length - this.retain));
    const drop = old.filter((m) => !this.pins.has(snapshotName(m.index, m.term)));
    if (drop.length === 0) return;
    this.sealed = this.sealed.filter((m) => !drop.includes(m));
    // Meta first: a crash in between leaves unsealed data, which open() removes.
    for (const meta of drop) {
      await this.fs.rm(metaFile(this.dir, meta), { force: true });
      await this.fs.rm(dataFile(this.dir, meta), { force: true });
    }
    await this.fs.fsyncDir(this.dir);
  }

  private assertOpen(): void {
    if (this.closed) throw new RaftError('INVALID_ARGUMENT', 'snapshot store is closed');
  }
}

function compareMeta(a: SnapshotMeta, b: SnapshotMeta): number {
  return a.index - b.index || a.term - b.term;
}
