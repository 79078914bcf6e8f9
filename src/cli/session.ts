import type { PipelineSpec } from '../core/pipeline.js';
import type { ComponentRegistry, SourceProgress } from '../core/ports.js';
import { WireError } from '../core/errors.js';
import { openCheckpointStore, type LmdbCheckpointStore } from '../engine/checkpoint-store.js';
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
        const { recordsIn, recordsOut, deadLettered, dropped, filtered, unconfirmed, elapsedMs, workers, error, resumedFrom } = summary;
        const base = { pipeline: name, state: stateOf(summary), recordsIn, recordsOut, deadLettered, dropped, filtered, unconfirmed, elapsedMs, workers };
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
        unconfirmed: p.unconfirmed,
        elapsedMs: p.elapsedMs,
        ...(p.source === undefined ? {} : { source: p.source }),
      };
    },
  };
}

/**
 * Marks every pipeline as run by this process, before any opens: two runs of one pipeline on one data dir would
 * both resume from its checkpoint and write its output twice. CONFLICT when another live process runs one.
 */
function claimRuns(store: LmdbCheckpointStore, specs: readonly PipelineSpec[], dataDir: string): void {
  const claimed: string[] = [];
  for (const spec of specs) {
    const owner = store.claimRun(spec.name, Date.now());
    if (owner === undefined) {
      claimed.push(spec.name);
      continue;
    }
    for (const name of claimed) store.releaseRun(name);
    throw new WireError(
      'CONFLICT',
      `pipeline ${spec.name} is already running on the data dir ${dataDir} (pid ${owner.pid} on ${owner.host}, ` +
        `since ${new Date(owner.since).toISOString()}): stop that run first, or give this one another --data-dir`,
      { pipeline: spec.name, pid: owner.pid, host: owner.host },
    );
  }
}

/**
 * Starts every pipeline of a file on one checkpoint store. If one cannot start, those already
 * started are stopped (drained) and the store closed before the error goes up.
 */
export async function startPipelines(specs: readonly PipelineSpec[], options: SessionOptions): Promise<RunSession> {
  const store = openCheckpointStore(options.dataDir);
  const release = async (): Promise<void> => {
    for (const spec of specs) store.releaseRun(spec.name);
    await store.close();
  };
  try {
    claimRuns(store, specs, options.dataDir);
  } catch (error) {
    await store.close();
    throw error;
  }
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
    await release();
    throw error;
  }
  return { runs, close: release };
}
