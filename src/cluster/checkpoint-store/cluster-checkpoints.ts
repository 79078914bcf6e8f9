/**
 * The cluster's `CheckpointStore`: a task's checkpoints go through Raft, every task of the node batched into at
 * most one `checkpoint.commit` per interval (default 1 s), one at a time, so the data plane never waits on consensus per record and
 * 1,000 tasks cost one entry per node per second. A save resolves once its batch is applied; a newer save of a
 * task waiting for the same batch replaces the older one (both resolve with it). A save someone waits on (a run's
 * last checkpoint, a stop, a pause: `hurry`) does not wait for the interval.
 *
 * Loads read this node's applied state: the agent starts a task only once its assignment is applied here, and
 * every checkpoint committed before that assignment is before it in the log.
 *
 * The engine does not know which store it has. A save the state machine refuses (an older epoch: the task was
 * given to another node) fails with CONFLICT, and `onRefused` stops the task at once.
 */
import { WireError } from '../../core/errors.js';
import type { Checkpoint, CheckpointStore } from '../../core/ports.js';
import type { Clock, TimerHandle } from '../../raft/clock.js';
import { jsonCopy } from '../codec.js';
import type { StateReader } from '../state-view.js';
import type { RefusedCheckpoint } from '../tasks/task-transitions.js';

export const DEFAULT_CHECKPOINT_INTERVAL_MS = 1000;

export interface CheckpointItem {
  readonly pipeline: string;
  readonly task: string;
  readonly epoch: number;
  readonly seq: number;
  readonly version: number;
  readonly checkpoint: Readonly<Record<string, unknown>>;
}

export interface ClusterCheckpointsOptions {
  readonly state: () => StateReader;
  /** Proposes one `checkpoint.commit` of this node's items; resolves with the ones the state machine refused. */
  readonly commit: (items: readonly CheckpointItem[]) => Promise<readonly RefusedCheckpoint[]>;
  readonly clock: Clock;
  readonly intervalMs?: number;
  readonly onRefused: (refused: RefusedCheckpoint) => void;
}

export interface TaskRun {
  readonly pipeline: string;
  readonly task: string;
  readonly epoch: number;
  readonly version: number;
  /** Checkpoints of pipeline versions before this one are not resumed from (`update --reset`). */
  readonly resetBefore?: number;
}

interface Pending {
  item: CheckpointItem;
  readonly waiters: Array<{ resolve: () => void; reject: (e: Error) => void }>;
}

const keyOf = (pipeline: string, task: string): string => `${pipeline}\u0000${task}`;

export class ClusterCheckpoints {
  private pending = new Map<string, Pending>();
  private timer: TimerHandle | undefined;
  private inFlight: Promise<void> | undefined;
  private closed = false;
  private lastSentAt = -Infinity;
  /** The last save handed out per task (its epoch, seq and checkpoint), committed or not. */
  private readonly issued = new Map<string, { epoch: number; seq: number; version: number; checkpoint: Record<string, unknown> }>();
  /** The store of the newest run of each task here: an older run's late save (it was killed) is refused. */
  private readonly newest = new Map<string, object>();
  private readonly intervalMs: number;
  /** Tasks someone waits on (`CheckpointStore.hurry`), until when: their saves go without waiting for the interval. */
  private readonly hurried = new Map<string, number>();

  constructor(private readonly o: ClusterCheckpointsOptions) {
    this.intervalMs = o.intervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
  }

  /** The store one run of one task uses. */
  forTask(run: TaskRun): CheckpointStore {
    const key = keyOf(run.pipeline, run.task);
    const stored = this.o.state().checkpoint(run.pipeline, run.task);
    const issued = this.issued.get(key);
    // (epoch, seq) only grows: a run again at the same epoch (a restart after a failure or a lost lease) continues
    // the count, past what is committed and past what an earlier run here may still have on its way.
    let seq = Math.max(stored !== undefined && stored.epoch === run.epoch ? stored.seq + 1 : 0, issued !== undefined && issued.epoch === run.epoch ? issued.seq + 1 : 0);
    const self = {};
    this.newest.set(key, self);
    const save = (checkpoint: Record<string, unknown>): CheckpointItem => {
      // Its fields alone (a run's `resetBefore` is no part of a checkpoint.commit), in the order `canonicalize` keeps.
      const item: CheckpointItem = { checkpoint, epoch: run.epoch, pipeline: run.pipeline, seq: seq++, task: run.task, version: run.version };
      this.issued.set(key, { epoch: run.epoch, seq: item.seq, version: run.version, checkpoint });
      return item;
    };
    return {
      // Where this node's last run of the task at this epoch got to, if past what is committed: its later saves may
      // still be on their way, and this run's saves, numbered after them, must not take the position back.
      load: async () => {
        const stored = this.o.state().checkpoint(run.pipeline, run.task);
        const mine = this.issued.get(key);
        const newer = mine !== undefined && mine.epoch === run.epoch && (stored === undefined || stored.epoch < mine.epoch || (stored.epoch === mine.epoch && stored.seq < mine.seq));
        const cp = newer ? mine : stored;
        if (cp === undefined || (run.resetBefore !== undefined && cp.version < run.resetBefore)) return undefined;
        return cp.checkpoint as unknown as Checkpoint;
      },
      // A copy as JSON: the state holds JSON values only (a sink state may carry undefined fields), and the engine's
      // objects may change after the save while it waits for its batch.
      save: (_key, checkpoint) => {
        if (this.newest.get(key) !== self) return Promise.reject(new WireError('CONFLICT', `a newer run of task ${run.pipeline}/${run.task} started on this node: this run's checkpoint is dropped`));
        return this.enqueue(save(jsonCopy({ ...checkpoint, epoch: run.epoch }) as Record<string, unknown>));
      },
      delete: async () => {
        throw new WireError('CONFLICT', `the checkpoint of a cluster task (${run.pipeline}/${run.task}) is reset with a new version (wire pipeline update --reset)`);
      },
      close: async () => undefined,
      hurry: () => this.hurry(key),
    };
  }

  /** Resolves once every save made so far is committed (or refused). */
  async flush(): Promise<void> {
    while (this.pending.size > 0 || this.inFlight) {
      if (this.inFlight) await this.inFlight;
      else await this.send();
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const error = new WireError('UNAVAILABLE', 'the node is stopping: the checkpoint was not committed');
    for (const p of this.pending.values()) for (const w of p.waiters) w.reject(error);
    this.pending.clear();
  }

  /**
   * Someone waits on the task's checkpoint: its saves for the next interval go at once (one proposal in flight at a
   * time still, with whatever else is pending). A bounded time, not one save: the save the waiter needs may come
   * after one already under way, and a stop that had nothing to save must not leave the task hurried for good.
   */
  private hurry(key: string): void {
    this.hurried.set(key, this.o.clock.now() + this.intervalMs);
    if (this.pending.has(key)) this.rearm();
  }

  /** Whether a pending save is of a task someone waits on (forgetting the waits that are over). */
  private get urgent(): boolean {
    const now = this.o.clock.now();
    for (const [key, until] of this.hurried) {
      if (until < now) this.hurried.delete(key);
      else if (this.pending.has(key)) return true;
    }
    return false;
  }

  private rearm(): void {
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.arm();
  }

  private enqueue(item: CheckpointItem): Promise<void> {
    if (this.closed) return Promise.reject(new WireError('UNAVAILABLE', 'the node is stopping: the checkpoint was not committed'));
    return new Promise<void>((resolve, reject) => {
      const key = keyOf(item.pipeline, item.task);
      const p = this.pending.get(key);
      if (p) {
        p.item = item;
        p.waiters.push({ resolve, reject });
      } else this.pending.set(key, { item, waiters: [{ resolve, reject }] });
      if (this.hurried.has(key)) this.rearm();
      else this.arm();
    });
  }

  /**
   * Sends at most one proposal per interval: at once when the last went out an interval ago or more (a run's
   * opening and final checkpoints do not wait), or when someone waits on a pending save (`hurry`), else when the
   * interval since it has passed.
   */
  private arm(): void {
    if (this.timer !== undefined || this.closed) return;
    const wait = this.urgent ? 0 : Math.max(0, this.lastSentAt + this.intervalMs - this.o.clock.now());
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      void this.send();
    }, wait);
  }

  /** Sends what is pending as one proposal; one at a time, so a task's saves commit in order. */
  private async send(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.lastSentAt = this.o.clock.now();
    const run = this.commit(batch);
    this.inFlight = run;
    try {
      await run;
    } finally {
      this.inFlight = undefined;
      if (this.pending.size > 0) this.arm();
    }
  }

  private async commit(batch: Map<string, Pending>): Promise<void> {
    let refused: readonly RefusedCheckpoint[];
    try {
      refused = await this.o.commit([...batch.values()].map((p) => p.item));
    } catch (error) {
      for (const p of batch.values()) for (const w of p.waiters) w.reject(error as Error);
      return;
    }
    const byKey = new Map(refused.map((r) => [keyOf(r.pipeline, r.task), r]));
    for (const [key, p] of batch) {
      const r = byKey.get(key);
      if (r === undefined) {
        for (const w of p.waiters) w.resolve();
        continue;
      }
      const error = new WireError('CONFLICT', `checkpoint refused: ${r.message}`, { pipeline: r.pipeline, task: r.task, epoch: r.epoch, reason: r.reason });
      for (const w of p.waiters) w.reject(error);
      this.o.onRefused(r);
    }
  }
}
