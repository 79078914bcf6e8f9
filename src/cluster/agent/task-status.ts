/**
 * A pipeline's tasks as `wire pipeline status` shows them: the assignment and last checkpoint from the replicated
 * state, and the counts, rate, lag and last error each node reported with its last lease renewal (kept by the
 * leader only, never in the Raft log).
 */
import type { StateReader } from '../state-view.js';
import type { TaskStats } from '../tasks/leases.js';

export interface TaskStatus {
  readonly task: string;
  readonly node: string | null;
  readonly epoch: number;
  readonly version: number;
  /** What the node says it does; `unassigned` when no node has it, `assigned` before its node reported it. */
  readonly state: TaskStats['state'] | 'unassigned' | 'assigned';
  readonly drain: boolean;
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly deadLettered: number;
  readonly filtered: number;
  readonly rate: number;
  readonly lag: number | null;
  /** The last committed checkpoint: its epoch and sequence, and when it was committed (ms since the epoch, by the proposer). */
  readonly checkpoint: { readonly epoch: number; readonly seq: number; readonly at: number } | null;
  readonly lastError: string | null;
  readonly restarts: number;
}

export function taskStatuses(state: StateReader, pipeline: string, statsOf: (node: string) => readonly TaskStats[]): TaskStatus[] {
  return state.tasks(pipeline).map((t) => {
    const cp = state.checkpoint(pipeline, t.task);
    const s = t.node === null ? undefined : statsOf(t.node).find((x) => x.pipeline === pipeline && x.task === t.task && x.epoch === t.epoch);
    return {
      task: t.task,
      node: t.node,
      epoch: t.epoch,
      version: t.version,
      state: t.node === null ? 'unassigned' : (s?.state ?? 'assigned'),
      drain: t.drain,
      recordsIn: s?.recordsIn ?? 0,
      recordsOut: s?.recordsOut ?? 0,
      deadLettered: s?.deadLettered ?? 0,
      filtered: s?.filtered ?? 0,
      rate: s?.rate ?? 0,
      lag: s?.lag ?? null,
      checkpoint: cp === undefined ? null : { epoch: cp.epoch, seq: cp.seq, at: cp.at },
      lastError: s?.lastError ?? null,
      restarts: s?.restarts ?? 0,
    };
  });
}

/**
 * What a pipeline's tasks say of it as a whole: `failed` (with the error) once any task gave up; `paused` once every
 * task's run has checkpointed what it read and reads nothing.
 */
export function pipelineRunState(tasks: readonly TaskStatus[]): { readonly state: 'failed' | 'completed' | 'paused' | 'running' | 'idle'; readonly error: string | null } {
  const failed = tasks.find((t) => t.state === 'failed');
  if (failed) return { state: 'failed', error: failed.lastError };
  if (tasks.length > 0 && tasks.every((t) => t.state === 'completed')) return { state: 'completed', error: null };
  if (tasks.length > 0 && tasks.every((t) => t.state === 'paused' || t.state === 'completed')) return { state: 'paused', error: null };
  return { state: tasks.some((t) => t.node !== null) ? 'running' : 'idle', error: null };
}
