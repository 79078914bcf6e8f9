/**
 * The repair for a node whose durable state must not be trusted (a `WalCorruptError` on start): the whole
 * data directory is moved aside, kept for inspection, so the node can start empty and rejoin the cluster
 * as a new member that catches up by snapshot (docs/raft.md, "Repairing a node whose WAL is corrupt").
 */
import { rename, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RaftError } from '../errors.js';
import { nodeStorageFs, type StorageFs } from './storage-fs.js';

export interface MoveAsideOptions {
  fs?: StorageFs;
  /** When the move happens (names the new directory; default now). */
  now?: Date;
}

/**
 * Renames the stopped node's data directory `dir` to `<dir>.corrupt-<UTC time>` beside it and fsyncs
 * their parent, so the move survives a power loss. Returns the new path. Refuses when `dir` is not a
 * directory or the new name is taken; never deletes anything.
 */
export async function moveDataDirAside(dir: string, options: MoveAsideOptions = {}): Promise<string> {
  const fs = options.fs ?? nodeStorageFs;
  const found = await stat(dir).catch(() => undefined);
  if (!found?.isDirectory()) throw new RaftError('INVALID_ARGUMENT', `${dir} is not a data directory`);
  const stamp = (options.now ?? new Date()).toISOString().replace(/[:.]/g, '-');
  const target = join(dirname(dir), `${basename(dir)}.corrupt-${stamp}`);
  if (await stat(target).then(() => true, () => false)) throw new RaftError('CONFLICT', `${target} already exists`);
  await rename(dir, target);
  await fs.fsyncDir(dirname(dir));
  return target;
}
