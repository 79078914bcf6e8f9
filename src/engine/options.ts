import type { WireError } from '../core/errors.js';
import type { PipelineSpec } from '../core/pipeline.js';
import type { CheckpointStore, ComponentRegistry, SourceProgress } from '../core/ports.js';
import type { Position } from '../core/record.js';
import type { Logger } from '../observability/logger.js';
import type { PipelineMetrics } from '../observability/pipeline-metrics.js';
import type { TrialJudge, TrialPlan } from './auto-workers.js';
import type { Clock } from './clock.js';

export interface CheckpointPolicy {
  /** Checkpoint after this many records have been read since the last one (default 1,000,000). */
  readonly everyRecords?: number;
  /** ...or after this long (default 1,000 ms), whichever comes first. */
  readonly everyMs?: number;
}

export interface RunOptions {
  readonly spec: PipelineSpec;
  readonly registry: ComponentRegistry;
  readonly checkpointStore: CheckpointStore;
  /** Where components may keep local state (`--data-dir`). */
  readonly dataDir: string;
  readonly checkpoint?: CheckpointPolicy;
  readonly logger?: Logger;
  /** Where metrics go: a `WireMetrics` shared by every pipeline of a process, so one `/metrics` shows them all. None by default. */
  readonly metrics?: PipelineMetrics;
  /** Called at most every `progressIntervalMs` (default 500) while running, and once at the end. */
  readonly onProgress?: (progress: RunProgress) => void;
  readonly progressIntervalMs?: number;
  /** Ignore (and delete) the stored checkpoint: read the source from its start, open the sink afresh. */
  readonly fromStart?: boolean;
  /** Required when `spec.workers > 0` (and for `auto` to choose workers): the module worker threads build transforms from. */
  readonly transformsModule?: URL | string;
  /**
   * What `workers: auto` decides on (tests set them): cores (default `os.availableParallelism()`), bytes left to
   * read, the trial's lengths in blocks, and the judge of its two rates (default: workers ≥ 1.05× the main thread).
   */
  readonly autoWorkers?: {
    readonly cores?: number;
    readonly minBytes?: number;
    readonly trial?: Partial<TrialPlan>;
    readonly judge?: TrialJudge;
  };
  /** Source batches between read and sink (default 4 + 2 × lanes, or more with workers). Bounds memory. */
  readonly maxInFlightBatches?: number;
  /**
   * Move records one by one even where the source and the sink could exchange blocks of lines (the fast
   * path). The output is the same either way; tests and benchmarks compare the two.
   */
  readonly recordPath?: boolean;
  /** How long `stop()` may drain before it becomes `kill()` (default 10 s): a stop always ends. */
  readonly stopTimeoutMs?: number;
  /** The key checkpoints are stored under (default: the pipeline's name). */
  readonly checkpointKey?: string;
  /** The source partition this run reads, as a cluster task: passed to every component (`ComponentContext.partition`). */
  readonly partition?: string;
  /** For tests: virtual time for backoff and rate limits, and a seeded jitter. */
  readonly clock?: Clock;
  readonly random?: () => number;
}

export type RunCause = 'end' | 'stop' | 'kill' | 'error';

export interface RunCounts {
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly deadLettered: number;
  readonly dropped: number;
  readonly filtered: number;
  /**
   * Records read that are not yet out, dead-lettered, dropped or filtered: on their way, or taken by a sink whose
   * flush has not confirmed them. 0 once a run completes or drains; after a failure or a kill, what the run read but
   * could not confirm (never acknowledged to the source, so a source that can replay them does on the next run).
   * With transforms that do not split records, in = out + dead-lettered + dropped + filtered + unconfirmed.
   */
  readonly unconfirmed: number;
  readonly errors: number;
}

export interface RunProgress extends RunCounts {
  readonly pipeline: string;
  readonly elapsedMs: number;
  /** Records read per second since the start. */
  readonly rate: number;
  readonly inFlightBatches: number;
  readonly source?: SourceProgress;
}

export interface RunSummary extends RunCounts {
  readonly pipeline: string;
  readonly state: 'stopped' | 'failed';
  /** Why it ended: the input ended, stop() drained it, kill() cut it short, or an error failed it. */
  readonly cause: RunCause;
  readonly elapsedMs: number;
  readonly rate: number;
  /** Worker threads the transforms ran on (0: the main thread); what `workers: auto` chose. */
  readonly workers: number;
  /** The last position saved in the checkpoint store by this run. */
  readonly checkpoint?: Position;
  /** Where the run resumed, when it found a checkpoint: the position and the source's words for it. */
  readonly resumedFrom?: { readonly position: Position; readonly at: string };
  readonly error?: WireError;
}

/** A running pipeline. */
export interface PipelineHandle {
  readonly done: Promise<RunSummary>;
  /** Stop reading, drain what is in flight, flush, checkpoint, close; past `stopTimeoutMs`, as `kill()`. */
  stop(): void;
  /** Stop at once: nothing more is written or acknowledged; the last checkpoint stands. */
  kill(): void;
  /**
   * Stop reading without stopping: the source is asked for nothing more (a batch it was already asked for is held,
   * unread, until `resume`), what was read reaches the sink and is checkpointed, and the source and sinks stay open.
   * Resolves once that checkpoint is saved (or the run has ended); never rejects (a failure ends the run).
   */
  pause(): Promise<void>;
  /** Reads again from where the pause left off: no reopening, nothing read twice. */
  resume(): void;
  progress(): RunProgress;
}
