/**
 * The engine a simulated node runs its tasks with: a `PipelineHandle` that writes numbered records on the node's
 * clock, saves checkpoints (the last number written) to the store the agent gives it, drains to a checkpoint on
 * `stop()`, ends at once on `kill()`, and writes nothing between `pause()` (which saves a checkpoint) and `resume()`,
 * as `runPipeline` does. Every write goes to the world's ledger, where
 * the invariants look at who wrote what, when, and whether its node held a lease then.
 */
import type { TaskRecord } from '../../src/cluster/tasks/task-records.js';
import type { CheckpointStore } from '../../src/core/ports.js';
import type { PipelineHandle, RunCause, RunProgress, RunSummary } from '../../src/engine/index.js';
import type { NodeClock } from '../sim/node-clock.js';

/** What the agent hands a runner (h11-agent's `StartRun`). */
export interface SimStartRun {
  readonly task: TaskRecord;
  readonly spec: Readonly<Record<string, unknown>>;
  readonly store: CheckpointStore;
}

export interface WriteEvent {
  readonly node: string;
  readonly pipeline: string;
  readonly task: string;
  readonly epoch: number;
  /** The numbers written: from..to. */
  readonly from: number;
  readonly to: number;
}

export interface EngineHooks {
  readonly node: string;
  readonly clock: NodeClock;
  /** Called before every write: the ledger checks it. */
  write(event: WriteEvent): void;
  /** A run began or ended (the invariants track live runs). */
  started(run: SimRun): void;
  ended(run: SimRun): void;
}

const WRITE_EVERY_MS = 25;
const BATCH = 10;
const CHECKPOINT_EVERY_MS = 200;

export class SimRun implements PipelineHandle {
  readonly done: Promise<RunSummary>;
  private resolveDone!: (s: RunSummary) => void;
  private position = -1;
  private written = 0;
  private ended = false;
  private stopping = false;
  private paused = false;
  private lastSave = 0;
  private readonly startedAt: number;
  /** Saves in order, as the engine's checkpointer makes them. */
  private saving: Promise<void> = Promise.resolve();
  /** Settles once the checkpoint is loaded (a pause saves nothing before: it would save no position). */
  private readonly opened: Promise<void>;

  constructor(
    readonly task: TaskRecord,
    private readonly store: CheckpointStore,
    private readonly hooks: EngineHooks,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    this.startedAt = hooks.clock.now();
    hooks.started(this);
    this.opened = this.open();
  }

  get node(): string {
    return this.hooks.node;
  }

  get live(): boolean {
    return !this.ended;
  }

  stop(): void {
    if (this.ended || this.stopping) return;
    this.stopping = true;
    void this.drain();
  }

  kill(): void {
    this.finish('kill');
  }

  /** Whether it reads nothing now (the invariants check a paused pipeline's runs). */
  get isPaused(): boolean {
    return this.paused;
  }

  async pause(): Promise<void> {
    if (this.ended || this.stopping || this.paused) return;
    this.paused = true;
    await this.opened;
    if (this.ended || this.stopping || !this.paused) return;
    this.save();
    await this.saving;
  }

  resume(): void {
    this.paused = false;
  }

  progress(): RunProgress {
    return { ...this.counts(), pipeline: this.task.pipeline, elapsedMs: this.hooks.clock.now() - this.startedAt, rate: 0, inFlightBatches: 0 };
  }

  private async open(): Promise<void> {
    try {
      const checkpoint = await this.store.load(`${this.task.pipeline}/${this.task.task}`);
      if (typeof checkpoint?.position === 'number') this.position = checkpoint.position;
    } catch (error) {
      this.finish('error', error);
      return;
    }
    if (this.ended) return;
    this.lastSave = this.hooks.clock.now();
    this.schedule();
  }

  private schedule(): void {
    this.hooks.clock.setTimeout(() => this.step(), WRITE_EVERY_MS);
  }

  private step(): void {
    if (this.ended || this.stopping) return;
    if (this.paused) {
      this.schedule();
      return;
    }
    const from = this.position + 1;
    const to = this.position + BATCH;
    this.hooks.write({ node: this.hooks.node, pipeline: this.task.pipeline, task: this.task.task, epoch: this.task.epoch, from, to });
    this.position = to;
    this.written += BATCH;
    if (this.hooks.clock.now() - this.lastSave >= CHECKPOINT_EVERY_MS) {
      this.lastSave = this.hooks.clock.now();
      this.save();
    }
    this.schedule();
  }

  private save(): void {
    const checkpoint = { position: this.position, updatedAt: 0 };
    // A refused save fails the run, as the engine's checkpointer does.
    this.saving = this.saving.then(() => this.store.save(`${this.task.pipeline}/${this.task.task}`, checkpoint)).catch((error: unknown) => {
      this.finish('error', error);
    });
  }

  private async drain(): Promise<void> {
    this.save();
    await this.saving;
    this.finish('stop');
  }

  private finish(cause: RunCause, error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.hooks.ended(this);
    this.resolveDone({
      ...this.counts(),
      pipeline: this.task.pipeline,
      state: cause === 'error' ? 'failed' : 'stopped',
      cause,
      elapsedMs: this.hooks.clock.now() - this.startedAt,
      rate: 0,
      workers: 0,
      ...(error === undefined ? {} : { error: error as RunSummary['error'] }),
    });
  }

  private counts() {
    return { recordsIn: this.written, recordsOut: this.written, deadLettered: 0, dropped: 0, filtered: 0, unconfirmed: 0, errors: 0 };
  }
}
