// What every connector e2e test shares: a pipeline file, a run killed with SIGKILL at a checkpoint (right after its
// first with a position, or one the test names), a run stopped like a user stops it, and the lines of a jsonl output.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Checkpoint } from '../../src/core/ports.js';
import { watchCheckpoints, waitForCheckpoint } from '../cli/checkpoints.js';
import { startWire, type WireProcess } from '../cli/harness.js';

/** Writes `lines` as `dir/<name>` (a pipeline's YAML); resolves to its path. */
export async function pipelineFile(dir: string, lines: string[], name = 'pipeline.yaml'): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, [...lines, ''].join('\n'));
  return file;
}

const hasPosition = (c: Checkpoint): boolean => c.position !== null;

export interface KillAt {
  /** The checkpoint to kill at; by default the first with a position. */
  readonly until?: (checkpoint: Checkpoint) => boolean;
  /** Runs once that checkpoint is saved, before the kill (to let the run go past it). */
  readonly beforeKill?: () => Promise<void>;
}

/**
 * Kills the running `wire` with SIGKILL once pipeline `name` saved the checkpoint `at.until` takes, checking it was
 * the kill that ended it. Resolves to that checkpoint and to the last one saved before the kill.
 */
export async function killAtCheckpoint(wire: WireProcess, state: string, name: string, at: KillAt = {}): Promise<{ seen: Checkpoint; last: Checkpoint }> {
  const store = await watchCheckpoints(state, wire.child, 120_000);
  try {
    const seen = await waitForCheckpoint(store, name, wire.child, at.until ?? hasPosition, 120_000);
    await at.beforeKill?.();
    wire.child.kill('SIGKILL');
    const killed = await wire.exited(30_000);
    expect(killed.signal, `the run ended before it could be killed:\n${wire.stderr()}`).toBe('SIGKILL');
    expect(seen !== undefined && (at.until ?? hasPosition)(seen), `no checkpoint as awaited:\n${wire.stderr()}`).toBe(true);
    return { seen: seen!, last: (await store.load(name))! };
  } finally {
    await store.close();
  }
}

/** Starts the run of `file` and kills it with SIGKILL at a checkpoint (`killAtCheckpoint`). */
export async function killAfterCheckpoint(name: string, dir: string, state: string, file: string, at: KillAt = {}): Promise<{ seen: Checkpoint; last: Checkpoint }> {
  return killAtCheckpoint(startWire(['run', '--data-dir', state, file], { cwd: dir }), state, name, at);
}

export async function fileLines(path: string): Promise<string[]> {
  try {
    return (await readFile(path, 'utf8')).split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}

/**
 * The complete lines of a file a run is still writing: a last line without its newline is being written and is left
 * out (parsing it threw in a poll: "Expected ',' or '}'"). For checks after the run, use `fileLines`, which keeps it.
 */
export async function linesSoFar(path: string): Promise<string[]> {
  try {
    const text = await readFile(path, 'utf8');
    return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l !== '');
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
