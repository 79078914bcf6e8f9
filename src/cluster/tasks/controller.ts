/**
 * The leader's controller: from the replicated state, the pipelines' partitions and who is alive, the task
 * commands that move the cluster toward what it should run. Pure (no clock, no I/O): the driver
 * (`task-driver.ts`) feeds it and proposes what it returns, and a simulation can do the same.
 *
 * - A task whose node is dead is given to another node (or to none) at epoch + 1 at once: its old node has
 *   stopped it by itself, its lease having run out before the failover timeout did.
 * - A task that must stop, move or change version on a live node is drained first: its node stops it at a
 *   checkpoint and releases it, and only then is it assigned again at epoch + 1 (so no checkpoint is lost).
 * - A released task whose partition the running version no longer has is removed (with its checkpoint); a
 *   stopped pipeline runs nothing and keeps its tasks' checkpoints.
 * - A paused pipeline's tasks are placed as a running one's are (its runs stay open, reading nothing): a pause or a
 *   resume moves no task and changes no epoch.
 */
import type { NodeRecord, PipelineRecord } from '../records.js';
import { schedule, type Placement, type SchedulerTask } from '../scheduler/schedule.js';
import type { TaskRecord } from './task-records.js';

export interface TaskPartitionView {
  readonly id: string;
  readonly source: Readonly<Record<string, unknown>>;
}

export interface ControllerInput {
  readonly pipelines: readonly PipelineRecord[];
  /** The partitions of each pipeline's current version; a pipeline missing here is not acted on yet (being computed). */
  readonly partitions: ReadonlyMap<string, { readonly version: number; readonly partitions: readonly TaskPartitionView[] }>;
  readonly tasks: readonly TaskRecord[];
  readonly nodes: readonly NodeRecord[];
  /** Whether a node holds its lease (the leader's `LeaseTable`). */
  readonly alive: (node: string) => boolean;
  /** Whether a node is leaving: it keeps what it runs until drained, and takes nothing new. */
  readonly leaving: (node: string) => boolean;
  /**
   * The epoch a task that has no record starts at: the leader's applied index + 1. Every epoch is at most the index
   * of the entry that set it, so a task recreated under a deleted pipeline's name starts above every epoch the old
   * one had, and a late checkpoint of the old one is refused as stale.
   */
  readonly firstEpoch: number;
}

export interface Assignment {
  readonly pipeline: string;
  readonly task: string;
  readonly node: string | null;
  readonly epoch: number;
  readonly version: number;
  readonly source: Readonly<Record<string, unknown>>;
}

export interface TaskRef {
  readonly pipeline: string;
  readonly task: string;
}

export interface ControllerPlan {
  readonly assign: Assignment[];
  readonly drain: (TaskRef & { readonly epoch: number })[];
  readonly remove: TaskRef[];
}

const key = (pipeline: string, task: string): string => `${pipeline}\u0000${task}`;

/** Whether a pipeline's tasks are placed on nodes: running, or paused (open, reading nothing). */
const placed = (p: PipelineRecord | undefined): boolean => p?.desired === 'running' || p?.desired === 'paused';

/** The placement a stored spec asks for, if it is well formed. */
export function placementOf(spec: Readonly<Record<string, unknown>>): Placement | undefined {
  const p = spec['placement'];
  if (typeof p !== 'object' || p === null) return undefined;
  const { node, labels } = p as { node?: unknown; labels?: unknown };
  const out: { node?: string; labels?: Record<string, string> } = {};
  if (typeof node === 'string') out.node = node;
  if (typeof labels === 'object' && labels !== null) out.labels = Object.fromEntries(Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string'));
  return out;
}

export function planTasks(input: ControllerInput): ControllerPlan {
  const plan: ControllerPlan = { assign: [], drain: [], remove: [] };
  const live = input.nodes.filter((n) => input.alive(n.id));
  const schedulable = live.filter((n) => !input.leaving(n.id));
  const pipelines = new Map(input.pipelines.map((p) => [p.name, p]));
  const tasks = new Map(input.tasks.map((t) => [key(t.pipeline, t.task), t]));
  const isLive = (node: string | null): node is string => node !== null && input.alive(node);

  // What should run: every partition of every running or paused pipeline whose partitions are known.
  const wanted = new Map<string, { pipeline: PipelineRecord; partition: TaskPartitionView; placement: Placement | undefined }>();
  for (const p of input.pipelines) {
    const parts = input.partitions.get(p.name);
    if (!placed(p) || parts === undefined || parts.version !== p.version) continue;
    const placement = placementOf(p.spec);
    for (const partition of parts.partitions) wanted.set(key(p.name, partition.id), { pipeline: p, partition, placement });
  }

  // A task stays where it is only if it is wanted as it runs (this version), on a live node, not draining.
  const schedulerTasks: SchedulerTask[] = [];
  for (const [k, w] of wanted) {
    const t = tasks.get(k);
    const stays = t !== undefined && isLive(t.node) && !t.drain && t.version === w.pipeline.version && !input.leaving(t.node);
    schedulerTasks.push({ id: k, current: stays ? t.node : null, ...(w.placement ? { placement: w.placement } : {}) });
  }
  const moves = new Map(schedule(schedulable, schedulerTasks).map((m) => [m.task, m.to]));

  for (const t of input.tasks) {
    const k = key(t.pipeline, t.task);
    const w = wanted.get(k);
    const known = pipelines.has(t.pipeline) && input.partitions.get(t.pipeline)?.version === pipelines.get(t.pipeline)!.version;
    if (t.node !== null && !isLive(t.node)) {
      // Fail-over: the dead node's lease has run out; epoch + 1 fences anything it still sends.
      const to = w && t.version === w.pipeline.version ? (moves.get(k) ?? null) : null;
      plan.assign.push(assignment(t, to, w));
      continue;
    }
    if (t.node !== null) {
      // Until this leader has split a running pipeline into partitions it cannot tell what is unwanted: leave its tasks be.
      if (!known && placed(pipelines.get(t.pipeline))) continue;
      const mustStop = w === undefined || t.version !== w.pipeline.version || input.leaving(t.node) || (moves.has(k) && moves.get(k) !== t.node);
      if (mustStop && !t.drain) plan.drain.push({ pipeline: t.pipeline, task: t.task, epoch: t.epoch });
      continue;
    }
    // Released (or never placed): place it, or forget it when no longer wanted.
    if (w !== undefined) {
      const to = moves.get(k);
      if (to !== undefined && to !== null) plan.assign.push(assignment(t, to, w));
    } else if (known && placed(pipelines.get(t.pipeline))) {
      // Only a partition the current version no longer has: a stopped pipeline's task keeps its checkpoint.
      plan.remove.push({ pipeline: t.pipeline, task: t.task });
    }
  }
  for (const [k, w] of wanted) {
    if (tasks.has(k)) continue;
    const to = moves.get(k);
    if (to === undefined || to === null) continue;
    plan.assign.push({ pipeline: w.pipeline.name, task: w.partition.id, node: to, epoch: input.firstEpoch, version: w.pipeline.version, source: w.partition.source });
  }
  return plan;
}

function assignment(t: TaskRecord, node: string | null, w: { pipeline: PipelineRecord; partition: TaskPartitionView } | undefined): Assignment {
  const current = w !== undefined && node !== null;
  return {
    pipeline: t.pipeline,
    task: t.task,
    node,
    epoch: t.epoch + 1,
    version: current ? w.pipeline.version : t.version,
    source: current ? w.partition.source : t.source,
  };
}
