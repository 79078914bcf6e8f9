// Reads the checkpoint store of a `wire run` while it runs (LMDB takes readers from other processes), so a
// crash test can kill the run at a known point instead of guessing with sleeps.
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Checkpoint, CheckpointStore } from '../../src/core/ports.js';
import { openCheckpointStore } from '../../src/engine/checkpoint-store.js';
import { exists, waitFor } from './harness.js';

/** Opens `dataDir`'s checkpoint store once the run has created it; the caller closes it. */
export async function watchCheckpoints(dataDir: string, child: ChildProcess, timeoutMs: number): Promise<CheckpointStore> {
  await waitFor(() => exists(join(dataDir, 'checkpoints.mdb')) || child.exitCode !== null, timeoutMs, 5);
  if (child.exitCode !== null) throw new Error(`wire exited (${child.exitCode}) before it opened its checkpoint store`);
  return openCheckpointStore(dataDir);
}

/** Polls `key`'s checkpoint until `accept` takes it (or the run exits); returns the last one seen. */
export async function waitForCheckpoint(
  store: CheckpointStore,
  key: string,
  child: ChildProcess,
  accept: (checkpoint: Checkpoint) => boolean,
  timeoutMs: number,
): Promise<Checkpoint | undefined> {
  let last: Checkpoint | undefined;
  await waitFor(
    async () => {
      last = await store.load(key);
      return (last !== undefined && accept(last)) || child.exitCode !== null;
    },
    timeoutMs,
    5,
  );
  return last;
}
