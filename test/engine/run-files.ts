import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createRegistry } from '../../src/connectors/registry.js';
import type { PipelineSpec } from '../../src/core/pipeline.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import type { RunOptions } from '../../src/engine/options.js';
import { runPipeline } from '../../src/engine/runner.js';
import { spec } from './fakes.js';

export const transformsModule = new URL('../../src/transforms/runtime.ts', import.meta.url);

export type RunWith = Pick<RunOptions, 'recordPath' | 'autoWorkers' | 'transformsModule'>;

/** A dead letter without its time (which differs from run to run) and its pipeline (checked: the run's name). */
export type Letter = Record<string, unknown>;

/**
 * Runs file → file (with a dead-letter file) over `input` and reads back what it wrote: the summary's counts, the
 * output bytes, the dead letters. `overrides` may set the source's config (its path is filled in).
 */
export async function runFiles(dir: string, name: string, input: string, overrides: Partial<PipelineSpec> = {}, options: RunWith = {}) {
  const out = join(dir, `${name}.out`);
  const dead = join(dir, `${name}.dead.jsonl`);
  const { source, ...rest } = overrides;
  const s = spec({
    name,
    source: { type: 'file', config: { ...source?.config, path: input } },
    sink: { type: 'file', config: { path: out } },
    deadLetter: { type: 'file', config: { path: dead } },
    ...rest,
  });
  const summary = await runPipeline({ spec: s, registry: createRegistry(), checkpointStore: new MemoryCheckpointStore(), dataDir: dir, transformsModule, ...options }).done;
  const letters: Letter[] = (await readFile(dead, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const { time: _time, pipeline, ...kept } = JSON.parse(l) as Letter;
      if (pipeline !== name) throw new Error(`dead letter of pipeline ${String(pipeline)} in ${name}'s file`);
      return kept;
    });
  const { elapsedMs: _e, rate: _r, pipeline: _p, workers, error, ...counts } = summary;
  return { counts, workers, error, output: await readFile(out), letters };
}
