/**
 * A process that restores a snapshot file into a state directory and stops for good at one step of the
 * restore, printing `stopped <step>`, so its parent can kill -9 it there (`restore-crash.test.ts`).
 * Run: node --import tsx restore-child.ts DIR SNAPSHOT_FILE STEP
 */
import { readFile } from 'node:fs/promises';
import { ClusterStateMachine } from '../../../src/cluster/fsm.js';
import type { RestoreStep } from '../../../src/cluster/state-dir.js';
import { chunked } from './harness.js';

const [dir, file, stopAt] = process.argv.slice(2) as [string, string, RestoreStep];
const bytes = await readFile(file);
const fsm = await ClusterStateMachine.open({
  dir,
  onRestoreStep: async (step) => {
    if (step !== stopAt) return;
    process.stdout.write(`stopped ${step}\n`);
    // A promise that never settles does not keep the process alive: with nothing else pending (as at
    // marker-written) it exited with code 13 before the parent's SIGKILL came. A timer holds it until then.
    setInterval(() => undefined, 60_000);
    await new Promise<never>(() => undefined);
  },
});
// Small chunks, so 'receiving' comes while most of the snapshot is still to be written.
await fsm.restore(chunked(bytes, 512));
await fsm.close();
process.stdout.write('restored\n');
