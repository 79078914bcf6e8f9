// `workers: auto`: how many worker threads a pipeline gets when the user leaves the choice to the engine.
import type { SourceProgress } from '../core/ports.js';

/**
 * Below this much input the ~0.1 s it takes workers to start and load the transforms costs more than a
 * second core saves (the main thread transforms ~60 MB/s of small JSON records on the benchmark machine).
 */
export const AUTO_MIN_BYTES = 16 * 1024 * 1024;
/** Past this, more workers only add messages and memory: the main thread's reads and writes are the limit. */
export const AUTO_MAX_WORKERS = 8;
/**
 * Whether workers pay depends on the machine as much as on the records (on one 2-core VM ~1 KB records ran 6 %
 * slower on two workers than on the main thread, on another 14 % faster), so `auto` does not guess: it times
 * the main thread on the first blocks, then the workers on the next ones, and keeps the faster
 * (`AutoWorkersTrial`). Workers must beat the main thread by this much to stay: they cost memory and cores.
 */
export const AUTO_MIN_GAIN = 1.05;

export interface AutoWorkersInput {
  /** The pipeline moves line blocks (source and sink both take them; one lane; no rate limit). */
  readonly blockPath: boolean;
  /** Whether each transform of the chain declares itself stateless; empty when there are none. */
  readonly stateless: readonly boolean[];
  /** Cores this process may use (`os.availableParallelism()`). */
  readonly cores: number;
  /** What the source knows of its size, after it opened (so a resumed file counts only what is left). */
  readonly source: SourceProgress | undefined;
  /** Below this many bytes left to read, no workers. */
  readonly minBytes: number;
}

/**
 * One worker per core (capped), where they might pay: a large input on the line-block path, where a block
 * crosses to a worker by transfer and comes back as bytes. The engine then runs an `AutoWorkersTrial` and
 * keeps them only if they were faster. One worker never beats the main thread (the worker does the work
 * while the main thread waits), so auto never picks 1. Nothing else gets workers: not the
 * record path (records cross as copies), not a source of unknown size (a stream may be small), and not a
 * chain with a transform that may keep state between records (`js`), whose behaviour would then depend on
 * which thread saw which record.
 */
export function autoWorkerCount(input: AutoWorkersInput): number {
  if (!input.blockPath) return 0;
  // Without transforms workers would only check lines: measured slower than checking them on the main thread.
  if (input.stateless.length === 0 || input.stateless.includes(false)) return 0;
  const source = input.source;
  if (source === undefined || source.unit !== 'bytes' || source.total - source.done < input.minBytes) return 0;
  return autoWorkerLimit(input.cores);
}

/** The most workers `auto` can choose on this machine (none on one core): also sizes the in-flight window. */
export function autoWorkerLimit(cores: number): number {
  return cores < 2 ? 0 : Math.min(cores, AUTO_MAX_WORKERS);
}

/** How many blocks each step of a trial takes. */
export interface TrialPlan {
  /** Blocks the main thread takes before timing starts (compilation, caches). */
  readonly warmup: number;
  /** Blocks timed on the main thread; the workers start after them. */
  readonly main: number;
  /** Blocks sent to the workers before timing starts (the in-flight window fills with their work). */
  readonly workerWarmup: number;
  /** Blocks timed on the workers. */
  readonly workers: number;
}

export const DEFAULT_TRIAL: Omit<TrialPlan, 'workerWarmup'> = { warmup: 2, main: 8, workers: 12 };

/** What the engine does after a block: start the workers, stop them (the main thread was faster), or go on. */
export type TrialStep = 'start' | 'stop' | undefined;

/** Decides from the two rates (bytes per ms) whether the workers stay. */
export type TrialJudge = (mainRate: number, workerRate: number) => boolean;

export const keepFasterWorkers: TrialJudge = (mainRate, workerRate) => workerRate >= mainRate * AUTO_MIN_GAIN;

/**
 * `workers: auto`'s measurement, fed each block as it is dispatched (dispatch is paced by the bounded in-flight
 * window, so its rate is the pipeline's): the main thread's rate over `plan.main` blocks, then the workers'
 * over `plan.workers` blocks once they take blocks. Pure: the engine passes the time.
 */
export class AutoWorkersTrial {
  private phase: 'main' | 'starting' | 'workers' | 'done' = 'main';
  private seen = 0;
  private since = 0;
  private bytes = 0;
  /** Bytes per ms, once measured. */
  mainRate: number | undefined;
  workerRate: number | undefined;

  constructor(
    private readonly plan: TrialPlan,
    private readonly judge: TrialJudge = keepFasterWorkers,
  ) {}

  /** A block of `bytes` is dispatched at `now` (ms), to the workers or not. */
  observe(now: number, bytes: number, onWorkers: boolean): TrialStep {
    switch (this.phase) {
      case 'main':
        if (this.time(now, bytes, this.plan.warmup, this.plan.main)) {
          this.mainRate = this.rate(now);
          this.phase = 'starting';
          return 'start';
        }
        return undefined;
      case 'starting':
        if (!onWorkers) return undefined;
        this.phase = 'workers';
        this.seen = 0;
        return this.observe(now, bytes, onWorkers);
      case 'workers':
        if (!this.time(now, bytes, this.plan.workerWarmup, this.plan.workers)) return undefined;
        this.workerRate = this.rate(now);
        this.phase = 'done';
        return this.judge(this.mainRate!, this.workerRate) ? undefined : 'stop';
      case 'done':
        return undefined;
    }
  }

  /** Counts a block of the current step; true once `timed` blocks after the first `skip` are counted. */
  private time(now: number, bytes: number, skip: number, timed: number): boolean {
    this.seen++;
    if (this.seen === skip + 1) {
      this.since = now;
      this.bytes = 0;
      return false;
    }
    if (this.seen <= skip) return false;
    this.bytes += bytes;
    return this.seen === skip + 1 + timed;
  }

  private rate(now: number): number {
    return this.bytes / Math.max(now - this.since, 1e-3);
  }
}
