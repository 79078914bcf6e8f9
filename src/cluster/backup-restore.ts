/**
 * `wire node --restore FILE`: a backup (`GET /v1/cluster/backup`, `wire cluster backup`) becomes the state of a
 * new data dir, from which the node then forms a new one-node cluster (a new cluster id; other nodes join it).
 * The backup's pipelines, versions and every other record come back; the old cluster's id and members do not.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { WireError } from '../core/errors.js';
import { ClusterStateMachine } from './fsm.js';

export async function restoreBackup(dataDir: string, file: string): Promise<void> {
  await requireFile(file);
  const created = await requireEmptyDir(dataDir);
  const dir = path.join(dataDir, 'fsm');
  let restored = false;
  try {
    const fsm = await ClusterStateMachine.open({ dir });
    try {
      await fsm.seed(createReadStream(file));
    } finally {
      await fsm.close();
    }
    restored = true;
  } finally {
    // A failed restore leaves the data dir as it found it, so the same command can run again.
    if (!restored) await rm(created ? dataDir : dir, { recursive: true, force: true });
  }
}

async function requireFile(file: string): Promise<void> {
  try {
    if ((await stat(file)).isFile()) return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new WireError('INVALID_INPUT', `--restore: cannot read ${file}: ${(error as Error).message}`, { field: 'restore' }, error);
  }
  throw new WireError('INVALID_INPUT', `--restore: ${file} is not a file`, { field: 'restore' });
}

/** Creates the data dir, or checks it is empty; returns whether it was created. */
async function requireEmptyDir(dataDir: string): Promise<boolean> {
  let entries: string[];
  try {
    entries = await readdir(dataDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new WireError('INVALID_INPUT', `--data-dir: cannot read ${dataDir}: ${(error as Error).message}`, { field: 'data-dir' }, error);
    await mkdir(dataDir, { recursive: true });
    return true;
  }
  if (entries.length > 0) {
    throw new WireError('CONFLICT', `--restore needs an empty --data-dir, and ${dataDir} holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}`, { field: 'data-dir' });
  }
  return false;
}
