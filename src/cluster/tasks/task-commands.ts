/**
 * The commands of task assignment and checkpoints (see `task-transitions.ts` for their rules). Batched: the
 * leader's controller assigns many tasks in one entry, and each node commits all its tasks' checkpoints of an
 * interval in one entry.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import { PIPELINE_NAME } from '../../core/pipeline.js';

/** Tasks in one command: 1,000 tasks checkpointing every second is one entry per node per second. */
export const MAX_TASKS_PER_COMMAND = 10_000;

const Id = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$' });
const Name = Type.String({ pattern: PIPELINE_NAME.source });
// '\uffff' bounds a pipeline's key range (`taskRange`), so no task id holds it.
const TaskId = Type.String({ minLength: 1, maxLength: 200, pattern: '^[^\u0000\uffff]+$' });
const Epoch = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const VersionNumber = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const Json = Type.Record(Type.String(), Type.Unknown());
const batch = <T extends TSchema>(item: T) => Type.Array(item, { minItems: 1, maxItems: MAX_TASKS_PER_COMMAND });
const object = <P extends Record<string, TSchema>>(fields: P) => Type.Object(fields, { additionalProperties: false });

/** Fields of each task command, beside `v`, `type` and `at` (added by `commands.ts`). */
export const TASK_COMMAND_FIELDS = {
  /** Gives each task to a node (or to none) at a new, higher epoch; the whole batch or nothing. */
  'task.assign': {
    assignments: batch(object({ pipeline: Name, task: TaskId, node: Type.Union([Id, Type.Null()]), epoch: Epoch, version: VersionNumber, source: Json })),
  },
  /** Asks each task's node to stop it at a checkpoint and release it (same epoch). */
  'task.drain': { tasks: batch(object({ pipeline: Name, task: TaskId, epoch: Epoch })) },
  /** The node stopped its task at a checkpoint: nobody runs it now (same epoch: its checkpoints are refused from now on). */
  'task.release': { pipeline: Name, task: TaskId, epoch: Epoch, node: Id },
  /** Forgets released tasks (a partition gone in a new version), with their checkpoints. */
  'task.remove': { tasks: batch(object({ pipeline: Name, task: TaskId })) },
  /** One node's checkpoints of an interval; each is checked on its own (fencing). */
  'checkpoint.commit': {
    node: Id,
    checkpoints: batch(object({ pipeline: Name, task: TaskId, epoch: Epoch, seq: Count, version: VersionNumber, checkpoint: Json })),
  },
} as const;
