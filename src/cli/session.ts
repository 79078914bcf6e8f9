import type { PipelineSpec } from '../core/pipeline.js';
import type { ComponentRegistry, SourceProgress } from '../core/ports.js';
import { openCheckpointStore } from '../engine/checkpoint-store.js';
import type { PipelineHandle, RunSummary } from '../engine/options.js';
import { runPipeline } from '../engine/runner.js';
import type { Logger } from '../observability/logger.js';
import type { PipelineProgress, RunState } from './progress.js';

/** One pipeline of `wire run`, as the CLI drives and shows it. */
export interface PipelineRun {
  readonly name: string;
  /** The engine's summary once the pipeline has ended, whichever way. */
  readonly done: Promise<RunSummary>;
  stop(): void;
  kill(): void;
  sample(): PipelineProgress;
}

export interface RunSession {
  readonly runs: readonly PipelineRun[];
  /** Closes the checkpoint store; call once every run is done. */
  close(): Promise<void>;
}

export interface SessionOptions {
  readonly registry: ComponentRegistry;
  readonly dataDir: string;
  readonly fromStart: boolean;
  readonly logger: Logger;
}

/** Worker threads rebuild the (already validated) transforms from their factories alone: no schema library to load. */
const TRANSFORMS_MODULE = new URL('../transforms/runtime.js', import.meta.url);

function stateOf(summary: RunSummary): RunState {
  if (summary.state === 'failed') return 'failed';
  return summary.cause === 'end' ? 'completed' : 'stopped';
}

function track(handle: PipelineHandle, name: string): PipelineRun {
  let summary: RunSummary | undefined;
  let lastSource: SourceProgress | undefined;
  const done = handle.done.then((s) => {
    summary = s;
    // The source's own last word (a live sample may be a second old): a completed file reads 100 %.
    lastSource = handle.progress().source ?? lastSource;
    return s;
  });
  return {
    name,
    done,
    stop: () => handle.stop(),
    kill: () => handle.kill(),
    sample: (): PipelineProgress => {
      if (summary !== undefined) {
        const { recordsIn, recordsOut, deadLettered, dropped, filtered, elapsedMs, workers, error, resumedFrom } = summary;
        const base = { pipeline: name, state: stateOf(summary), recordsIn, recordsOut, deadLettered, dropped, filtered, elapsedMs, workers };
        return {
          ...base,
          ...(lastSource === undefined ? {} : { source: lastSource }),
          ...(error === undefined ? {} : { error }),
          ...(resumedFrom === undefined ? {} : { resumedFrom: resumedFrom.at }),
        };
      }
      const p = handle.progress();
      lastSource = p.source;
      return {
        pipeline: name,
        state: 'running',
        recordsIn: p.recordsIn,
        recordsOut: p.recordsOut,
        deadLettered: p.deadLettered,
        dropped: p.dropped,
        filtered: p.filtered,
        elapsedMs: p.elapsedMs,
        ...(p.source === undefined ? {} : { source: p.source }),
      };
    },
  };
}

/**
 * Starts every pipeline of a file on one checkpoint store. If one cannot start, those already
 * started are stopped (drained) and the store closed before the error goes up.
 */
export async function startPipelines(specs: readonly PipelineSpec[], options: SessionOptions): Promise<RunSession> {
  const store = openCheckpointStore(options.dataDir);
  const runs: PipelineRun[] = [];
  try {
    for (const spec of specs) {
      const handle = runPipeline({
        spec,
        registry: options.registry,
        checkpointStore: store,
        dataDir: options.dataDir,
        logger: options.logger,
        fromStart: options.fromStart,
        transformsModule: TRANSFORMS_MODULE,
      });
      runs.push(track(handle, spec.name));
    }
  } catch (error) {
    for (const run of runs) run.stop();
    await Promise.allSettled(runs.map((run) => run.done));
    await store.close();
    throw error;
  }
  return { runs, close: () => store.close() };
}
