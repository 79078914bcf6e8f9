/**
 * The rules of the task commands, checked on apply (`transitions.ts` dispatches here):
 * - epochs only grow: an assignment's epoch is above the task's (and above its checkpoint's), and a task without a
 *   record starts above every epoch of a task forgotten before it (the epoch floor);
 * - fencing: a checkpoint is taken only from the node the task is assigned to, at the task's current epoch;
 *   one of an older epoch is refused and the refusal goes back to the proposer, item by item;
 * - checkpoints never move backwards: (epoch, seq) only grows.
 */
import { WireError } from '../../core/errors.js';
import type { CommandOf } from '../commands.js';
import { KEYSPACES } from '../keyspaces.js';
import type { StateReader } from '../state-view.js';
import type { Plan, StateWrite } from '../transitions.js';
import { TASK_EPOCH_FLOOR_KEY, taskKey, type TaskCheckpointRecord, type TaskRecord } from './task-records.js';

export type TaskCommand = CommandOf<'task.assign' | 'task.drain' | 'task.release' | 'task.remove' | 'checkpoint.commit'>;

/** Why one checkpoint of a batch was refused. */
export type CheckpointRefusal = 'stale-epoch' | 'not-assigned' | 'backwards' | 'unknown-task';

export interface RefusedCheckpoint {
  readonly pipeline: string;
  readonly task: string;
  readonly epoch: number;
  readonly reason: CheckpointRefusal;
  readonly message: string;
}

export type TaskOutcome =
  | { readonly kind: 'tasks'; readonly tasks: readonly TaskRecord[] }
  | { readonly kind: 'tasksRemoved'; readonly count: number }
  | { readonly kind: 'checkpoints'; readonly accepted: number; readonly refused: readonly RefusedCheckpoint[] };

const reject = (code: 'CONFLICT' | 'NOT_FOUND' | 'INVALID_INPUT', message: string, details: Record<string, unknown>): Plan => ({
  ok: false,
  error: new WireError(code, message, details),
});

const id = (pipeline: string, task: string): string => `${pipeline}/${task}`;

export function planTaskCommand(state: StateReader, c: TaskCommand): Plan {
  switch (c.type) {
    case 'task.assign':
      return assign(state, c);
    case 'task.drain':
      return drain(state, c);
    case 'task.release':
      return release(state, c);
    case 'task.remove':
      return remove(state, c);
    case 'checkpoint.commit':
      return commitCheckpoints(state, c);
  }
}

function assign(state: StateReader, c: CommandOf<'task.assign'>): Plan {
  const seen = new Set<string>();
  const writes: StateWrite[] = [];
  const tasks: TaskRecord[] = [];
  for (const a of c.assignments) {
    const name = id(a.pipeline, a.task);
    if (seen.has(name)) return reject('INVALID_INPUT', `task.assign: task ${name} is assigned twice in one command`, { task: name });
    seen.add(name);
    const p = state.pipeline(a.pipeline);
    if (!p) return reject('NOT_FOUND', `task.assign: pipeline '${a.pipeline}' does not exist`, { pipeline: a.pipeline });
    if (a.version > p.version) return reject('CONFLICT', `task.assign: pipeline '${a.pipeline}' has no version ${a.version} yet`, { pipeline: a.pipeline, version: a.version });
    if (a.node !== null && !state.node(a.node)) return reject('NOT_FOUND', `task.assign: node '${a.node}' is not a member`, { node: a.node });
    // A task without a record starts above every epoch a forgotten task had: one recreated under the same name
    // must fence what its earlier self may still send.
    const record = state.task(a.pipeline, a.task);
    const floor = Math.max(record?.epoch ?? state.taskEpochFloor(), state.checkpoint(a.pipeline, a.task)?.epoch ?? 0);
    if (a.epoch <= floor) {
      return reject('CONFLICT', `task.assign: task ${name} is at epoch ${floor}; a new assignment needs a higher one, not ${a.epoch}`, { task: name, epoch: floor });
    }
    const task: TaskRecord = { pipeline: a.pipeline, task: a.task, epoch: a.epoch, node: a.node, version: a.version, source: a.source, drain: false, assignedAt: c.at };
    tasks.push(task);
    writes.push({ keyspace: KEYSPACES.tasks, key: taskKey(a.pipeline, a.task), value: task });
  }
  return { ok: true, writes, outcome: { kind: 'tasks', tasks } };
}

/** The task at exactly `epoch`, or the rejection that says why not. */
function current(state: StateReader, type: string, pipeline: string, task: string, epoch: number): TaskRecord | Plan {
  const t = state.task(pipeline, task);
  if (!t) return reject('NOT_FOUND', `${type}: task ${id(pipeline, task)} does not exist`, { task: id(pipeline, task) });
  if (t.epoch !== epoch) return reject('CONFLICT', `${type}: task ${id(pipeline, task)} is at epoch ${t.epoch}, not ${epoch}`, { task: id(pipeline, task), epoch: t.epoch });
  return t;
}

const isPlan = (v: TaskRecord | Plan): v is Plan => 'ok' in v;

function drain(state: StateReader, c: CommandOf<'task.drain'>): Plan {
  const writes: StateWrite[] = [];
  const tasks: TaskRecord[] = [];
  for (const d of c.tasks) {
    const t = current(state, c.type, d.pipeline, d.task, d.epoch);
    if (isPlan(t)) return t;
    if (t.node === null) return reject('CONFLICT', `task.drain: task ${id(d.pipeline, d.task)} runs nowhere`, { task: id(d.pipeline, d.task) });
    const drained: TaskRecord = { ...t, drain: true };
    tasks.push(drained);
    writes.push({ keyspace: KEYSPACES.tasks, key: taskKey(t.pipeline, t.task), value: drained });
  }
  return { ok: true, writes, outcome: { kind: 'tasks', tasks } };
}

function release(state: StateReader, c: CommandOf<'task.release'>): Plan {
  const t = current(state, c.type, c.pipeline, c.task, c.epoch);
  if (isPlan(t)) return t;
  if (t.node !== c.node) {
    return reject('CONFLICT', `task.release: task ${id(c.pipeline, c.task)} is not assigned to ${c.node}`, { task: id(c.pipeline, c.task), node: t.node });
  }
  const released: TaskRecord = { ...t, node: null, drain: false };
  return { ok: true, writes: [{ keyspace: KEYSPACES.tasks, key: taskKey(t.pipeline, t.task), value: released }], outcome: { kind: 'tasks', tasks: [released] } };
}

function remove(state: StateReader, c: CommandOf<'task.remove'>): Plan {
  const gone: TaskRecord[] = [];
  for (const r of c.tasks) {
    const t = state.task(r.pipeline, r.task);
    if (!t) return reject('NOT_FOUND', `task.remove: task ${id(r.pipeline, r.task)} does not exist`, { task: id(r.pipeline, r.task) });
    if (t.node !== null) return reject('CONFLICT', `task.remove: task ${id(r.pipeline, r.task)} still runs on ${t.node}`, { task: id(r.pipeline, r.task), node: t.node });
    gone.push(t);
  }
  return { ok: true, writes: forget(state, gone), outcome: { kind: 'tasksRemoved', count: c.tasks.length } };
}

/** The writes that delete `tasks` and their checkpoints, raising the epoch floor above every epoch they had. */
function forget(state: StateReader, tasks: readonly TaskRecord[]): StateWrite[] {
  let floor = state.taskEpochFloor();
  const writes: StateWrite[] = [];
  for (const t of tasks) {
    floor = Math.max(floor, t.epoch, state.checkpoint(t.pipeline, t.task)?.epoch ?? 0);
    writes.push({ keyspace: KEYSPACES.tasks, key: taskKey(t.pipeline, t.task) }, { keyspace: KEYSPACES.checkpoints, key: taskKey(t.pipeline, t.task) });
  }
  if (floor > state.taskEpochFloor()) writes.push({ keyspace: KEYSPACES.cluster, key: TASK_EPOCH_FLOOR_KEY, value: floor });
  return writes;
}

function commitCheckpoints(state: StateReader, c: CommandOf<'checkpoint.commit'>): Plan {
  const writes: StateWrite[] = [];
  const refused: RefusedCheckpoint[] = [];
  // A batch may hold two saves of one task: the later is judged against the earlier.
  const latest = new Map<string, TaskCheckpointRecord>();
  for (const cp of c.checkpoints) {
    const name = id(cp.pipeline, cp.task);
    const refuse = (reason: CheckpointRefusal, message: string): void => void refused.push({ pipeline: cp.pipeline, task: cp.task, epoch: cp.epoch, reason, message });
    const t = state.task(cp.pipeline, cp.task);
    if (!t) {
      refuse('unknown-task', `task ${name} does not exist`);
      continue;
    }
    if (cp.epoch < t.epoch) {
      refuse('stale-epoch', `task ${name} is at epoch ${t.epoch}: a checkpoint of epoch ${cp.epoch} is refused`);
      continue;
    }
    if (cp.epoch > t.epoch || t.node !== c.node) {
      refuse('not-assigned', `task ${name} at epoch ${cp.epoch} is not assigned to ${c.node}`);
      continue;
    }
    const before = latest.get(name) ?? state.checkpoint(cp.pipeline, cp.task);
    if (before && (before.epoch > cp.epoch || (before.epoch === cp.epoch && before.seq >= cp.seq))) {
      refuse('backwards', `task ${name} has checkpoint ${before.epoch}.${before.seq}: ${cp.epoch}.${cp.seq} would move it backwards`);
      continue;
    }
    // Its keys in order: stored as it is, not copied to sort them (`codec.ts`).
    const record: TaskCheckpointRecord = { at: c.at, checkpoint: cp.checkpoint, epoch: cp.epoch, node: c.node, seq: cp.seq, version: cp.version };
    latest.set(name, record);
    writes.push({ keyspace: KEYSPACES.checkpoints, key: taskKey(cp.pipeline, cp.task), value: record });
  }
  return { ok: true, writes, outcome: { kind: 'checkpoints', accepted: c.checkpoints.length - refused.length, refused } };
}

/** The writes that forget every task of `pipeline` and its checkpoints (the pipeline is deleted). */
export function forgetTasks(state: StateReader, pipeline: string): StateWrite[] {
  return forget(state, state.tasks(pipeline));
}
