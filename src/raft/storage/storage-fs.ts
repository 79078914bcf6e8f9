/**
 * The file-system calls that make the storage's directories durable. A name created, renamed or deleted
 * in a directory survives a power loss only once that directory is fsynced, and a new directory only once
 * its parent is: without it a founder's whole WAL (and with it its vote) can vanish. The WAL and the
 * snapshot store take a `StorageFs` in their options (node:fs by default), so a test or a simulator can
 * watch or fault these calls.
 */
import { mkdir, open } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

export interface StorageFs {
  /** Like `fs.promises.mkdir(dir, { recursive: true })`: resolves to the first directory it created, if any. */
  mkdirp(dir: string): Promise<string | undefined>;
  /** fsyncs a directory, making the names created, renamed or deleted in it durable. */
  fsyncDir(dir: string): Promise<void>;
}

export const nodeStorageFs: StorageFs = {
  mkdirp: (dir) => mkdir(dir, { recursive: true }),
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
