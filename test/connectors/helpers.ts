import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Source, SourceOpenOptions } from '../../src/core/ports.js';
import type { Batch, Position, WireRecord } from '../../src/core/record.js';

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'wire-connectors-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function openOptions(signal: AbortSignal = new AbortController().signal, from?: Position): SourceOpenOptions {
  return { pipeline: 'test', component: 'source', dataDir: tmpdir(), signal, from };
}

/** Opens a source, reads it to the end and closes it. */
export async function readAll(source: Source, options: SourceOpenOptions = openOptions(), max = 1000): Promise<Batch[]> {
  await source.open(options);
  const batches: Batch[] = [];
  try {
    for await (const batch of source.read(max)) batches.push(batch);
  } finally {
    await source.close();
  }
  return batches;
}

export function values(batches: Batch[]): unknown[] {
  return batches.flat().map((r: WireRecord) => r.value);
}

export function positions(batches: Batch[]): Position[] {
  return batches.flat().map((r: WireRecord) => r.position as Position);
}

/** Polls until `check` is true; bounded so a broken test fails instead of hanging. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
