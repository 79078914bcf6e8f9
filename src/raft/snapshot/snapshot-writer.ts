/**
 * Writers of a new snapshot file: `LocalSnapshotWriter` streams the local state machine's snapshot,
 * `SnapshotReceiver` assembles one sent by the leader chunk by chunk at offsets. Both write to a
 * temporary file, fsync it, and hand it to the store to seal (rename + fsync of the directory).
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Membership, SnapshotMeta } from '../core/types.js';
import type { SnapshotReceiver, SnapshotWriter } from '../ports.js';
import { CorruptStorageError, RaftError } from '../errors.js';
import { crc32c } from '../storage/crc32c.js';
import type { StorageFs, StorageFile } from '../storage/storage-fs.js';
import { TEMP_PREFIX, writeAll } from './snapshot-files.js';

/** What the store does with a temp file that has been written and fsynced. */
export type Sealer = (tempPath: string, meta: SnapshotMeta) => Promise<void>;

abstract class TempSnapshotFile {
  protected crc = 0;
  protected size = 0;
  protected done = false;

  protected constructor(
    protected readonly fs: StorageFs,
    protected readonly fh: StorageFile,
    protected readonly path: string,
    private readonly sealer: Sealer,
  ) {}

  protected static async create(fs: StorageFs, dir: string): Promise<{ fh: StorageFile; path: string }> {
    const path = join(dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}`);
    return { fh: await fs.open(path, 'wx'), path };
  }

  protected async append(chunk: Uint8Array): Promise<void> {
    if (this.done) throw new RaftError('INVALID_ARGUMENT', 'snapshot writer already finished');
    await writeAll(this.fh, chunk, this.size);
    this.crc = crc32c(chunk, this.crc);
    this.size += chunk.length;
  }

  protected async finish(meta: SnapshotMeta): Promise<SnapshotMeta> {
    if (this.done) throw new RaftError('INVALID_ARGUMENT', 'snapshot writer already finished');
    this.done = true;
    try {
      await this.fh.sync();
      await this.fh.close();
      await this.sealer(this.path, meta);
      return meta;
    } catch (err) {
      await this.fs.rm(this.path, { force: true });
      throw err;
    }
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    await this.fh.close();
    await this.fs.rm(this.path, { force: true });
  }
}

export class LocalSnapshotWriter extends TempSnapshotFile implements SnapshotWriter {
  private constructor(
    fs: StorageFs,
    fh: StorageFile,
    path: string,
    seal: Sealer,
    private readonly point: { index: number; term: number; membership: Membership },
  ) {
    super(fs, fh, path, seal);
  }

  static async open(fs: StorageFs, dir: string, seal: Sealer, point: { index: number; term: number; membership: Membership }): Promise<LocalSnapshotWriter> {
    const { fh, path } = await TempSnapshotFile.create(fs, dir);
    return new LocalSnapshotWriter(fs, fh, path, seal, point);
  }

  write(chunk: Uint8Array): Promise<void> {
    return this.append(chunk);
  }

  commit(): Promise<SnapshotMeta> {
    return this.finish({ ...this.point, size: this.size, checksum: this.crc });
  }
}

export class FileSnapshotReceiver extends TempSnapshotFile implements SnapshotReceiver {
  private constructor(
    fs: StorageFs,
    fh: StorageFile,
    path: string,
    seal: Sealer,
    readonly meta: SnapshotMeta,
  ) {
    super(fs, fh, path, seal);
  }

  static async open(fs: StorageFs, dir: string, seal: Sealer, meta: SnapshotMeta): Promise<FileSnapshotReceiver> {
    const { fh, path } = await TempSnapshotFile.create(fs, dir);
    return new FileSnapshotReceiver(fs, fh, path, seal, meta);
  }

  get received(): number {
    return this.size;
  }

  private queue: Promise<unknown> = Promise.resolve();

  /** Writes a chunk at `offset`; calls are serialized, so concurrent deliveries cannot interleave. */
  writeAt(offset: number, chunk: Uint8Array): Promise<number> {
    const next = this.queue.then(() => this.writeNow(offset, chunk));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async writeNow(offset: number, chunk: Uint8Array): Promise<number> {
    // Only the bytes right after what we hold are taken: a duplicate is skipped and a gap refused,
    // and the returned offset tells the sender where to resume.
    if (offset > this.size || offset + chunk.length <= this.size) return this.size;
    const fresh = chunk.subarray(this.size - offset);
    if (this.size + fresh.length > this.meta.size) throw new RaftError('INVALID_ARGUMENT', `snapshot chunk beyond its size ${this.meta.size}`);
    await this.append(fresh);
    return this.size;
  }

  async seal(): Promise<SnapshotMeta> {
    if (this.size !== this.meta.size || this.crc !== this.meta.checksum) {
      await this.abort();
      throw new CorruptStorageError(`received snapshot ${this.meta.index}/${this.meta.term} does not match its metadata (size ${this.size}/${this.meta.size}, checksum ${this.crc}/${this.meta.checksum})`);
    }
    return this.finish(this.meta);
  }
}
