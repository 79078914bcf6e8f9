/**
 * The records of the `tasks` and `checkpoints` keyspaces: which node runs each task of a pipeline, at which
 * epoch, and the last checkpoint each task committed. Both are keyed by [pipeline, task].
 */
import type { StoredSpec } from '../records.js';

export interface TaskRecord {
  readonly pipeline: string;
  /** The partition's id (`partitionsOf`): '0' for a source without partitions. */
  readonly task: string;
  /** One more at every assignment, fail-over and release: a checkpoint of an older one is refused. */
  readonly epoch: number;
  /** The node that runs it; null while nobody does (released, or its node judged dead). */
  readonly node: string | null;
  /** The pipeline version it runs. */
  readonly version: number;
  /** The source config this task runs with (its partition of the pipeline's source). */
  readonly source: StoredSpec;
  /** Its node is to stop it at a checkpoint and release it (a stop, a pause, an update, a move). */
  readonly drain: boolean;
  readonly assignedAt: number;
}

/** A checkpoint as the engine saves it (`core/ports.ts` `Checkpoint`), kept as JSON. */
export type StoredCheckpoint = Readonly<Record<string, unknown>>;

export interface TaskCheckpointRecord {
  /** The epoch of the run that saved it, and its place among that run's saves: together they only grow. */
  readonly epoch: number;
  readonly seq: number;
  /** The pipeline version whose run saved it. */
  readonly version: number;
  readonly node: string;
  readonly checkpoint: StoredCheckpoint;
  readonly at: number;
}

/**
 * The key, in the `cluster` keyspace (not the tasks': it is no task, and a backup seeded into a new cluster leaves it
 * behind with the old cluster's record), of the epoch floor: the highest epoch of any task forgotten so far.
 */
export const TASK_EPOCH_FLOOR_KEY = 'taskEpochFloor';

export const taskKey = (pipeline: string, task: string): [string, string] => [pipeline, task];

/** The keys [pipeline, …]: every task of one pipeline ('\uffff' sorts after any task id). */
export const taskRange = (pipeline: string): { start: [string, string]; end: [string, string] } => ({ start: [pipeline, ''], end: [pipeline, '\uffff'] });
