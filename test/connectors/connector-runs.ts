// What the connector e2e tests (rabbitmq, mqtt, mongodb) share: a pipeline file, a run killed with SIGKILL right after its first
// checkpoint with a position, a run stopped like a user stops it, and the lines of a jsonl output.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { watchCheckpoints, waitForCheckpoint } from '../cli/checkpoints.js';
import { startWire, type WireProcess } from '../cli/harness.js';

export async function pipelineFile(dir: string, lines: string[]): Promise<string> {
  const file = join(dir, 'pipeline.yaml');
  await writeFile(file, [...lines, ''].join('\n'));
  return file;
}

/** Starts the run and kills it with SIGKILL as soon as a checkpoint with a position is saved. */
export async function killAfterCheckpoint(name: string, dir: string, state: string, file: string): Promise<void> {
  const first = startWire(['run', '--data-dir', state, file], { cwd: dir });
  const store = await watchCheckpoints(state, first.child, 120_000);
  try {
    const seen = await waitForCheckpoint(store, name, first.child, (c) => c.position !== null, 120_000);
    first.child.kill('SIGKILL');
    const killed = await first.exited(30_000);
    expect(killed.signal, `the first run ended before it could be killed:\n${first.stderr()}`).toBe('SIGKILL');
    expect(seen?.position ?? null).not.toBeNull();
  } finally {
    await store.close();
  }
}

export async function fileLines(path: string): Promise<string[]> {
  try {
    return (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}

/** Stops an endless run the way a user does (SIGTERM: drain, checkpoint, exit 0). */
export async function stopRun(wire: WireProcess): Promise<void> {
  wire.child.kill('SIGTERM');
  const ended = await wire.exited(60_000);
  expect(ended.code, wire.stderr()).toBe(0);
}
