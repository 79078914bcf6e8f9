/**
 * The file system the WAL and the snapshot store use, a port: `node:fs` by default, a simulated disk
 * (power loss, torn writes, bit flips) under `test/sim`. Only what the stores call is here.
 *
 * A name created, renamed or deleted in a directory survives a power loss only once that directory is
 * fsynced, and a new directory only once its parent is: without it a founder's whole WAL (and with it
 * its vote) can vanish (`mkdirDurable`).
 */
import { closeSync, constants, openSync, readSync, write, writeSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';

export interface StorageFile {
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  /** A positioned read that returns at once (the log store's reads are synchronous). */
  readSync(buffer: Uint8Array, offset: number, length: number, position: number): number;
  /**
   * A positioned write that resolves once these bytes (and the size, if it grew) are durable: one write
   * through an `O_DSYNC` descriptor, one thread-pool round trip instead of a write and an fdatasync.
   * Linux syncs only this write's range, so callers use it only when no earlier write is unsynced.
   */
  writeDurable(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  /**
   * `writeDurable` on the calling thread: it blocks the event loop until the bytes are durable, and
   * returns how many were written. It saves the thread pool's two hand-offs and the wake-ups they cost,
   * which is worth it only for a small write to a fast disk: the WAL decides when. Optional: a file
   * without it is always written through `writeDurable`.
   */
  writeDurableSync?(buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** Makes the file's data durable (fdatasync). */
  datasync(): Promise<void>;
  /** Makes the file's data and metadata durable (fsync). */
  sync(): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}

/** `r`: read; `r+`: read and write an existing file; `w`: create or truncate; `wx`, `wx+`: create, failing if it exists. */
export type OpenFlags = 'r' | 'r+' | 'w' | 'wx' | 'wx+';

export interface StorageFs {
  open(path: string, flags: OpenFlags): Promise<StorageFile>;
  readFile(path: string): Promise<Buffer>;
  readdir(dir: string): Promise<string[]>;
  /** Like `fs.promises.mkdir(dir, { recursive: true })`: resolves to the first directory it created, if any. */
  mkdirp(dir: string): Promise<string | undefined>;
  /** Deletes a file; with `force`, a missing one is not an error. */
  rm(path: string, options?: { force?: boolean }): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  truncate(path: string, length: number): Promise<void>;
  exists(path: string): Promise<boolean>;
  /** Makes the directory's entries (files created, renamed or deleted in it) durable. */
  fsyncDir(dir: string): Promise<void>;
}

class NodeFile implements StorageFile {
  /** A second descriptor of the same file, opened with O_DSYNC on the first durable write. */
  private dsync: Promise<FileHandle> | undefined;
  private dsyncHandle: FileHandle | undefined;
  /** The same for `writeDurableSync`: a plain descriptor, opened on its first use. */
  private dsyncFd: number | undefined;

  constructor(
    private readonly fh: FileHandle,
    private readonly path: string,
  ) {}

  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    return this.fh.write(buffer, offset, length, position);
  }

  writeDurable(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    // Once the descriptor is open, the write is on the thread pool when this returns (no await before
    // it). Through the callback API: FileHandle.write costs three promises a write, this one.
    const fh = this.dsyncHandle;
    if (fh) return writeAt(fh.fd, buffer, offset, length, position);
    this.dsync ??= open(this.path, constants.O_WRONLY | constants.O_DSYNC).then((fh) => (this.dsyncHandle = fh));
    return this.dsync.then((fh) => fh.write(buffer, offset, length, position));
  }

  writeDurableSync(buffer: Uint8Array, offset: number, length: number, position: number): number {
    this.dsyncFd ??= openSync(this.path, constants.O_WRONLY | constants.O_DSYNC);
    return writeSync(this.dsyncFd, buffer, offset, length, position);
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return this.fh.read(buffer, offset, length, position);
  }

  readSync(buffer: Uint8Array, offset: number, length: number, position: number): number {
    return readSync(this.fh.fd, buffer, offset, length, position);
  }

  datasync(): Promise<void> {
    return this.fh.datasync();
  }

  sync(): Promise<void> {
    return this.fh.sync();
  }

  async size(): Promise<number> {
    return (await this.fh.stat()).size;
  }

  async close(): Promise<void> {
    const dsync = this.dsync;
    const dsyncFd = this.dsyncFd;
    this.dsync = undefined;
    this.dsyncHandle = undefined;
    this.dsyncFd = undefined;
    try {
      try {
        if (dsyncFd !== undefined) closeSync(dsyncFd);
      } finally {
        if (dsync) await (await dsync).close();
      }
    } finally {
      await this.fh.close();
    }
  }
}

function writeAt(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
  return new Promise((resolve, reject) => {
    write(fd, buffer, offset, length, position, (err, bytesWritten) => (err ? reject(err) : resolve({ bytesWritten })));
  });
}

/**
 * `mkdir -p` one level at a time: Node 20's recursive mkdir never settles on some paths (a missing
 * directory under /proc spins a thread-pool thread forever). Resolves to the first directory created.
 */
async function makeDirs(dir: string): Promise<string | undefined> {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    if ((await stat(d).catch(() => undefined)) !== undefined) break;
    missing.push(d);
    if (dirname(d) === d) break;
  }
  missing.reverse();
  for (const d of missing) {
    await mkdir(d).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    });
  }
  return missing[0];
}

/** The process's file system. */
export const nodeStorageFs: StorageFs = {
  open: async (path, flags) => new NodeFile(await open(path, flags), path),
  readFile: (path) => readFile(path),
  readdir: (dir) => readdir(dir),
  mkdirp: makeDirs,
  rm: (path, options) => rm(path, options),
  rename: (from, to) => rename(from, to),
  truncate: (path, length) => truncate(path, length),
  exists: (path) => stat(path).then(() => true, () => false),
  async fsyncDir(dir) {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  },
};

/**
 * Creates `dir` (and missing parents) and makes it durable: fsyncs the parent of every directory on the
 * way, down to `dir` itself. When `dir` already exists its parent and itself are still fsynced, since an
 * earlier start may have been killed between creating it and syncing it.
 */
export async function mkdirDurable(fs: StorageFs, dir: string): Promise<void> {
  const created = await fs.mkdirp(dir);
  const top = dirname(created ?? dir);
  await fs.fsyncDir(top);
  let path = top;
  for (const part of relative(top, dir).split(sep)) {
    path = join(path, part);
    await fs.fsyncDir(path);
  }
}
