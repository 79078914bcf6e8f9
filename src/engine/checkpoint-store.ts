import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { WireError } from '../core/errors.js';
import type { Checkpoint, CheckpointStore } from '../core/ports.js';
import { makeDirsSync } from '../platform/make-dirs.js';
import { currentOwner, isRunOwner, isRunning, type RunOwner } from './run-owner.js';

/** Where a running pipeline's owner is kept: `:` is not allowed in a pipeline name, so no checkpoint is named so. */
const RUNNING_PREFIX = 'running:';

function isCheckpoint(value: unknown): value is Checkpoint {
  return typeof value === 'object' && value !== null && 'position' in value && typeof (value as Checkpoint).updatedAt === 'number';
}

/**
 * Checkpoints in LMDB under `<dataDir>/checkpoints.mdb`, one entry per pipeline task. `save` resolves only
 * once the commit is flushed to disk: an acknowledged position must survive a crash of the machine.
 */
export class LmdbCheckpointStore implements CheckpointStore {
  private closed = false;

  constructor(private readonly db: RootDatabase<unknown, string>) {}

  async load(key: string): Promise<Checkpoint | undefined> {
    this.assertOpen();
    if (key.startsWith(RUNNING_PREFIX)) return undefined;
    const value = this.db.get(key);
    if (value === undefined) return undefined;
    if (!isCheckpoint(value)) throw new WireError('INTERNAL', `checkpoint '${key}' is corrupt`, { key });
    return value;
  }

  /** Every checkpoint in the store, by key (`wire checkpoints list`). */
  async list(): Promise<{ readonly key: string; readonly checkpoint: Checkpoint }[]> {
    this.assertOpen();
    const entries: { key: string; checkpoint: Checkpoint }[] = [];
    for (const { key, value } of this.db.getRange()) {
      if (key.startsWith(RUNNING_PREFIX)) continue;
      if (!isCheckpoint(value)) throw new WireError('INTERNAL', `checkpoint '${key}' is corrupt`, { key });
      entries.push({ key, checkpoint: value });
    }
    return entries;
  }

  async save(key: string, checkpoint: Checkpoint): Promise<void> {
    this.assertOpen();
    await this.db.put(key, checkpoint);
    await this.db.flushed;
  }

  async delete(key: string): Promise<void> {
    this.assertOpen();
    await this.db.remove(key);
    await this.db.flushed;
  }

  /**
   * Marks `key`'s pipeline as run by this process, unless another live process runs it: then returns that one.
   * The check and the mark are one LMDB write transaction, which processes sharing the data dir take in turn.
   */
  claimRun(key: string, now: number): RunOwner | undefined {
    this.assertOpen();
    const lockKey = RUNNING_PREFIX + key;
    return this.db.transactionSync(() => {
      const held = this.db.get(lockKey);
      if (isRunOwner(held) && isRunning(held)) return held;
      this.db.putSync(lockKey, currentOwner(now));
      return undefined;
    });
  }

  /** The live process running `key`'s pipeline, if any. */
  runningOwner(key: string): RunOwner | undefined {
    this.assertOpen();
    const held = this.db.get(RUNNING_PREFIX + key);
    return isRunOwner(held) && isRunning(held) ? held : undefined;
  }

  /** Forgets this process's claim on `key`'s pipeline (another's is left alone). */
  releaseRun(key: string): void {
    this.assertOpen();
    const lockKey = RUNNING_PREFIX + key;
    this.db.transactionSync(() => {
      const held = this.db.get(lockKey);
      if (isRunOwner(held) && held.pid === process.pid) this.db.removeSync(lockKey);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.db.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new WireError('UNAVAILABLE', 'checkpoint store is closed');
  }
}

export function openCheckpointStore(dataDir: string): LmdbCheckpointStore {
  try {
    makeDirsSync(dataDir);
    const db = open<unknown, string>({ path: join(dataDir, 'checkpoints.mdb'), compression: false });
    return new LmdbCheckpointStore(db);
  } catch (error) {
    throw new WireError('UNAVAILABLE', `cannot open the checkpoint store in ${dataDir}: ${(error as Error).message}`, { dataDir }, error);
  }
}
