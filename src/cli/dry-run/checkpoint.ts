import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { WireError } from '../../core/errors.js';
import type { ComponentSpec, PipelineSpec } from '../../core/pipeline.js';
import type { Checkpoint, ComponentRegistry } from '../../core/ports.js';
import { assertSameIdentity, checkpointIdentity, describePosition } from '../../engine/checkpoint-identity.js';

export interface CheckpointProbeOptions {
  readonly registry: ComponentRegistry;
  readonly dataDir: string;
  readonly fromStart: boolean;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

/** A file output shorter than its checkpoint says stops the run (the file sink's own check, made ahead). */
async function assertOutputKept(spec: PipelineSpec, sink: ComponentSpec, committed: unknown, dataDir: string): Promise<void> {
  const path = sink.config['path'];
  if (sink.type !== 'file' || typeof path !== 'string' || typeof committed !== 'number') return;
  const size = await sizeOf(path);
  if (size >= committed) return;
  throw new WireError(
    'CONFLICT',
    `${path} holds ${size} bytes but the checkpoint of ${spec.name} says ${committed} were written: the run would stop. ` +
      `Restore it, or start over: \`wire run --from-start\`, or \`wire checkpoints reset ${spec.name} --data-dir ${dataDir}\``,
    { path, size, committed, pipeline: spec.name },
  );
}

async function loadCheckpoint(dataDir: string, name: string): Promise<Checkpoint | undefined> {
  // Looking must not create a data dir (or its store).
  if (!existsSync(join(dataDir, 'checkpoints.mdb'))) return undefined;
  const { openCheckpointStore } = await import('../../engine/checkpoint-store.js');
  const store = openCheckpointStore(dataDir);
  try {
    return await store.load(name);
  } finally {
    await store.close();
  }
}

/**
 * What the run would resume from: nothing, or a checkpoint that applies to this pipeline's source and output files
 * and whose output files still hold what it says. A checkpoint the run would refuse is a failed check (CONFLICT).
 */
export async function checkpointProbe(spec: PipelineSpec, options: CheckpointProbeOptions): Promise<string> {
  if (options.fromStart) return 'ignored (--from-start): the run reads every source from its start';
  const checkpoint = await loadCheckpoint(options.dataDir, spec.name);
  if (checkpoint === undefined) return `none in ${options.dataDir}: the run reads its source from the start`;
  const identity = checkpointIdentity(options.registry, spec);
  assertSameIdentity(checkpoint.identity, identity, { pipeline: spec.name, key: spec.name, dataDir: options.dataDir });
  await assertOutputKept(spec, spec.sink, checkpoint.sink, options.dataDir);
  if (spec.deadLetter !== undefined) await assertOutputKept(spec, spec.deadLetter, checkpoint.deadLetter, options.dataDir);
  return `the run resumes from ${describePosition(options.registry, spec.source, checkpoint.position)}`;
}
