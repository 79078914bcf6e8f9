/**
 * A node's agent: watches the replicated state for the tasks assigned to this node and starts or stops their
 * engine runs.
 *
 * - A task runs only while the node holds its lease (`HeldLease`); the moment it does not, every run is killed
 *   (self-fencing), before the leader may give the tasks to another node.
 * - A task that is no longer this node's at this epoch is killed at once (it belongs to another node now).
 * - A task to drain (stop, update, move, delete, or this node leaving) is stopped at a checkpoint; once its last
 *   checkpoint is committed the agent releases it, and only then can it run elsewhere.
 * - A paused pipeline's task keeps its run: the engine reads nothing more, checkpoints what it had read, and keeps its
 *   source and sinks open; a resume makes the same run read on (same epoch, nothing read again).
 * - A run that fails is restarted with backoff; past `maxRestarts` it stays failed (with its error) until its
 *   assignment changes. A run whose input ended is completed and not run again.
 */
import { WireError, errorMessage } from '../../core/errors.js';
import type { PipelineHandle, RunSummary } from '../../engine/index.js';
import type { Clock, TimerHandle } from '../../raft/clock.js';
import type { ClusterCheckpoints } from '../checkpoint-store/cluster-checkpoints.js';
import type { NodeLog } from '../node-options.js';
import type { StateReader } from '../state-view.js';
import type { HeldLease, TaskStats } from '../tasks/leases.js';
import type { TaskRecord } from '../tasks/task-records.js';
import type { RefusedCheckpoint } from '../tasks/task-transitions.js';
import type { TaskRunner } from './task-runs.js';

export interface AgentBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Failed runs restarted before the task is left failed. */
  readonly maxRestarts: number;
}

export const DEFAULT_BACKOFF: AgentBackoff = { initialMs: 1000, maxMs: 30_000, maxRestarts: 5 };

/** How often the agent checks its lease (cheap: a clock read). */
const LEASE_CHECK_MS = 50;
/** How often it looks whether a backoff came due or a release is to be retried, and then at the whole state. */
const RECONCILE_EVERY_CHECKS = 10;
/**
 * How often it looks at the whole state anyway (applies that change assignments reconcile at once). Every pass reads
 * and decodes every task: at 1,000 tasks, twice a second was a fifth of a node's main thread.
 */
const FULL_PASS_EVERY_CHECKS = 100;

export interface AgentOptions {
  readonly nodeId: string;
  readonly state: () => StateReader;
  readonly clock: Clock;
  readonly lease: HeldLease;
  readonly checkpoints: ClusterCheckpoints;
  readonly runner: TaskRunner;
  /** Proposes `task.release` (through the leader). */
  readonly release: (pipeline: string, task: string, epoch: number) => Promise<void>;
  readonly log: NodeLog;
  readonly backoff?: AgentBackoff;
}

interface Run {
  readonly key: string;
  readonly task: TaskRecord;
  readonly handle: PipelineHandle;
  mode: 'running' | 'paused' | 'draining' | 'killed';
  /** Counts pauses: a pause's checkpoint that settles after a resume (or a later pause) reports nothing. */
  pauses: number;
  /** The engine has checkpointed what it read before the current pause. */
  pauseSettled: boolean;
}

/** What the agent remembers of a task between runs, for one assignment (epoch and version). */
interface Memo {
  readonly epoch: number;
  readonly version: number;
  state: 'completed' | 'backoff' | 'failed' | 'stopped';
  failures: number;
  retryAt: number;
  lastError: string | null;
  last: Omit<TaskStats, 'pipeline' | 'task' | 'epoch' | 'state' | 'lastError' | 'restarts' | 'lastCheckpointAgoMs'> | undefined;
}

const keyOf = (pipeline: string, task: string): string => `${pipeline}\u0000${task}`;

/** A pipeline whose tasks have runs: reading (running) or open and reading nothing (paused). */
const hasRuns = (desired: string | undefined): boolean => desired === 'running' || desired === 'paused';

/** The latest version up to the task's that was made with `--reset`: checkpoints saved before it are not resumed. */
function resetBefore(state: StateReader, task: TaskRecord): number | undefined {
  let reset: number | undefined;
  for (const v of state.versions(task.pipeline)) if (v.reset === true && v.version <= task.version) reset = v.version;
  return reset;
}

export class TaskAgent {
  private readonly runs = new Map<string, Run>();
  private readonly memos = new Map<string, Memo>();
  /** Drained tasks whose release is not committed yet (retried every tick). */
  private readonly toRelease = new Map<string, TaskRecord>();
  private readonly releasing = new Set<string>();
  private readonly settling = new Set<Promise<void>>();
  private readonly lastCheckpoint = new Map<string, number>();
  private readonly backoff: AgentBackoff;
  private timer: TimerHandle | undefined;
  private closing = false;

  constructor(private readonly o: AgentOptions) {
    this.backoff = o.backoff ?? DEFAULT_BACKOFF;
  }

  start(): void {
    let checks = 0;
    this.timer = this.o.clock.setInterval(() => {
      checks++;
      const due = checks % RECONCILE_EVERY_CHECKS === 0 && (checks % FULL_PASS_EVERY_CHECKS === 0 || this.toRelease.size > 0 || this.backoffDue());
      if (due) this.reconcile();
      else if (!this.o.lease.valid()) for (const run of this.runs.values()) this.kill(run, 'this node lost its lease');
    }, LEASE_CHECK_MS);
  }

  /** Whether a failed task's restart came due (a clock read per task: no state is decoded). */
  private backoffDue(): boolean {
    const now = this.o.clock.now();
    for (const memo of this.memos.values()) if (memo.state === 'backoff' && memo.retryAt <= now) return true;
    return false;
  }

  /** Runs now (the state or the lease changed). */
  reconcile(): void {
    const state = this.o.state();
    const leased = this.o.lease.valid();
    for (const run of this.runs.values()) this.judge(run, state, leased);
    if (leased && !this.closing && this.o.lease.caughtUp(state.applied().index)) this.startAssigned(state);
    if (this.toRelease.size > 0) this.releasePending();
  }

  /** A checkpoint of `refused`'s task was refused: the run is another node's now, or no one's. */
  refused(r: RefusedCheckpoint): void {
    const run = this.runs.get(keyOf(r.pipeline, r.task));
    if (run && run.task.epoch === r.epoch) this.kill(run, `its checkpoint was refused (${r.reason})`);
  }

  /** A checkpoint of a task was committed (for its stats). */
  checkpointed(pipeline: string, task: string): void {
    this.lastCheckpoint.set(keyOf(pipeline, task), this.o.clock.now());
  }

  /** Stops every run at a checkpoint and releases its task; resolves once all are released (or could not be). */
  async drainAll(): Promise<void> {
    this.closing = true;
    this.reconcile();
    while (this.runs.size > 0 || this.settling.size > 0) await Promise.all([...[...this.runs.values()].map((r) => r.handle.done), ...this.settling]);
    this.releasePending();
    await Promise.all(this.settling);
  }

  /** Stops at once: every run is killed (the node is going away without draining). */
  close(): void {
    this.closing = true;
    if (this.timer !== undefined) this.o.clock.clearInterval(this.timer);
    this.timer = undefined;
    for (const run of this.runs.values()) this.kill(run, 'the node is stopping');
  }

  /** The stats of every task this node runs or ran, for the lease renewal. */
  stats(): TaskStats[] {
    const now = this.o.clock.now();
    const out: TaskStats[] = [];
    const seen = new Set<string>();
    for (const run of this.runs.values()) {
      seen.add(run.key);
      const p = run.handle.progress();
      const memo = this.memos.get(run.key);
      const at = this.lastCheckpoint.get(run.key);
      out.push({
        pipeline: run.task.pipeline,
        task: run.task.task,
        epoch: run.task.epoch,
        state: run.mode === 'draining' ? 'draining' : run.mode === 'paused' ? (run.pauseSettled ? 'paused' : 'pausing') : 'running',
        recordsIn: p.recordsIn,
        recordsOut: p.recordsOut,
        deadLettered: p.deadLettered,
        filtered: p.filtered,
        rate: p.rate,
        lag: p.source && p.source.unit === 'records' ? Math.max(0, p.source.total - p.source.done) : null,
        lastCheckpointAgoMs: at === undefined ? null : now - at,
        lastError: memo?.lastError ?? null,
        restarts: memo?.failures ?? 0,
      });
    }
    for (const [key, memo] of this.memos) {
      if (seen.has(key) || memo.state === 'stopped') continue;
      const [pipeline, task] = key.split('\u0000') as [string, string];
      const at = this.lastCheckpoint.get(key);
      out.push({
        pipeline,
        task,
        epoch: memo.epoch,
        state: memo.state,
        ...(memo.last ?? { recordsIn: 0, recordsOut: 0, deadLettered: 0, filtered: 0, rate: 0, lag: null }),
        lastCheckpointAgoMs: at === undefined ? null : now - at,
        lastError: memo.lastError,
        restarts: memo.failures,
      });
    }
    return out;
  }

  private judge(run: Run, state: StateReader, leased: boolean): void {
    if (run.mode === 'killed') return;
    const t = state.task(run.task.pipeline, run.task.task);
    if (t === undefined || t.epoch !== run.task.epoch || t.node !== this.o.nodeId) {
      this.kill(run, t === undefined ? 'the task was deleted' : `the task is at epoch ${t.epoch} on ${t.node ?? 'no node'} now`);
      return;
    }
    if (!leased) {
      this.kill(run, 'this node lost its lease');
      return;
    }
    const p = state.pipeline(run.task.pipeline);
    if (run.mode === 'draining') return;
    if (this.closing || t.drain || !hasRuns(p?.desired)) {
      run.mode = 'draining';
      this.o.log.info(`task ${run.task.pipeline}/${run.task.task}: stopping at a checkpoint`);
      run.handle.stop();
    } else if (run.mode === 'running' && p?.desired === 'paused') {
      this.pause(run);
    } else if (run.mode === 'paused' && p?.desired === 'running') {
      run.mode = 'running';
      run.pauseSettled = false;
      this.o.log.info(`task ${run.task.pipeline}/${run.task.task}: resumed (epoch ${run.task.epoch})`);
      run.handle.resume();
    }
  }

  /** The run reads nothing more; it is `paused` once what it read is checkpointed (the cluster store's save commits it). */
  private pause(run: Run): void {
    run.mode = 'paused';
    run.pauseSettled = false;
    const pause = ++run.pauses;
    this.o.log.info(`task ${run.task.pipeline}/${run.task.task}: pausing (epoch ${run.task.epoch})`);
    // A pause that fails (its checkpoint refused, the node stopping) is logged here; the run's own end reports
    // the failure. Unhandled, the rejection would end the node process.
    run.handle.pause().then(
      () => {
        if (run.mode === 'paused' && run.pauses === pause) run.pauseSettled = true;
      },
      (err: unknown) => this.o.log.warn(`task ${run.task.pipeline}/${run.task.task}: pause did not complete: ${(err as Error).message}`),
    );
  }

  private kill(run: Run, why: string): void {
    if (run.mode === 'killed') return;
    run.mode = 'killed';
    this.o.log.warn(`task ${run.task.pipeline}/${run.task.task} (epoch ${run.task.epoch}) stopped at once: ${why}`);
    run.handle.kill();
  }

  private startAssigned(state: StateReader): void {
    const now = this.o.clock.now();
    for (const t of state.tasks()) {
      if (t.node !== this.o.nodeId) continue;
      const key = keyOf(t.pipeline, t.task);
      if (this.runs.has(key) || this.toRelease.has(key)) continue;
      if (t.drain) {
        // Drained but not running here (this node restarted, or the run was killed while draining): nothing to stop.
        this.toRelease.set(key, t);
        continue;
      }
      const p = state.pipeline(t.pipeline);
      if (p === undefined || !hasRuns(p.desired)) continue;
      const memo = this.memos.get(key);
      if (memo && memo.epoch === t.epoch && memo.version === t.version) {
        if (memo.state === 'completed' || memo.state === 'failed') continue;
        if (memo.state === 'backoff' && now < memo.retryAt) continue;
      }
      const spec = state.version(t.pipeline, t.version)?.spec;
      if (spec === undefined) continue;
      this.startRun(t, spec, resetBefore(state, t), memo && memo.epoch === t.epoch && memo.version === t.version ? memo : undefined, p.desired === 'paused');
    }
  }

  private startRun(task: TaskRecord, spec: Readonly<Record<string, unknown>>, reset: number | undefined, memo: Memo | undefined, paused: boolean): void {
    const key = keyOf(task.pipeline, task.task);
    const store = this.o.checkpoints.forTask({ pipeline: task.pipeline, task: task.task, epoch: task.epoch, version: task.version, ...(reset === undefined ? {} : { resetBefore: reset }) });
    let handle: PipelineHandle;
    try {
      handle = this.o.runner({ task, spec, store });
    } catch (error) {
      this.failed(key, task, memo, error);
      return;
    }
    const run: Run = { key, task, handle, mode: 'running', pauses: 0, pauseSettled: false };
    this.runs.set(key, run);
    this.o.log.info(`task ${task.pipeline}/${task.task}: running (epoch ${task.epoch}, version ${task.version})`);
    if (paused) this.pause(run);
    const settle = handle.done.then((summary) => this.ended(run, summary, memo));
    this.settling.add(settle);
    void settle.finally(() => this.settling.delete(settle));
  }

  private async ended(run: Run, summary: RunSummary, memo: Memo | undefined): Promise<void> {
    this.runs.delete(run.key);
    const { task } = run;
    const last = { recordsIn: summary.recordsIn, recordsOut: summary.recordsOut, deadLettered: summary.deadLettered, filtered: summary.filtered, rate: summary.rate, lag: null };
    if (run.mode === 'killed') return;
    const live = run.mode === 'running' || run.mode === 'paused';
    if (live && summary.cause === 'error') {
      this.failed(run.key, task, memo, summary.error);
      const m = this.memos.get(run.key);
      if (m) m.last = last;
      return;
    }
    const completed = live && summary.cause === 'end';
    this.memos.set(run.key, { epoch: task.epoch, version: task.version, state: completed ? 'completed' : 'stopped', failures: memo?.failures ?? 0, retryAt: 0, lastError: summary.error ? errorMessage(summary.error) : null, last });
    try {
      await this.o.checkpoints.flush();
    } catch (error) {
      this.o.log.warn(`task ${task.pipeline}/${task.task}: its last checkpoint was not committed: ${errorMessage(error)}`);
    }
    if (!completed) this.toRelease.set(run.key, task);
    this.releasePending();
  }

  private failed(key: string, task: TaskRecord, memo: Memo | undefined, error: unknown): void {
    const failures = (memo?.failures ?? 0) + 1;
    const message = error === undefined ? 'the run failed' : errorMessage(error);
    const gaveUp = failures > this.backoff.maxRestarts;
    const delay = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** (failures - 1));
    this.memos.set(key, { epoch: task.epoch, version: task.version, state: gaveUp ? 'failed' : 'backoff', failures, retryAt: this.o.clock.now() + delay, lastError: message, last: memo?.last });
    this.o.log.warn(`task ${task.pipeline}/${task.task} failed (${failures}): ${message}${gaveUp ? '; not restarted again' : `; restarting in ${delay} ms`}`);
  }

  private releasePending(): void {
    const state = this.o.state();
    for (const [key, task] of this.toRelease) {
      const t = state.task(task.pipeline, task.task);
      if (t === undefined || t.epoch !== task.epoch || t.node !== this.o.nodeId) {
        this.toRelease.delete(key);
        continue;
      }
      if (this.releasing.has(key)) continue;
      this.releasing.add(key);
      const p = this.o
        .release(task.pipeline, task.task, task.epoch)
        .then(
          () => void this.toRelease.delete(key),
          (error: unknown) => {
            // A CONFLICT means the task moved on already; anything else is tried again on the next tick.
            if (error instanceof WireError && error.code === 'CONFLICT') this.toRelease.delete(key);
            else this.o.log.debug(`task ${task.pipeline}/${task.task}: release not committed yet: ${errorMessage(error)}`);
          },
        )
        .finally(() => {
          this.releasing.delete(key);
          this.settling.delete(p);
        });
      this.settling.add(p);
    }
  }
}
