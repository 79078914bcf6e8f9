/**
 * How the agent starts one engine run for one task: the stored spec of the task's version with the task's own
 * source (its partition), the cluster checkpoint store, and a data dir of its own.
 */
import path from 'node:path';
import type { PipelineSpec } from '../../core/pipeline.js';
import type { CheckpointStore, ComponentRegistry } from '../../core/ports.js';
import { runPipeline, type PipelineHandle } from '../../engine/index.js';
import type { PipelineMetrics } from '../../observability/pipeline-metrics.js';
import type { Logger } from '../../observability/logger.js';
import type { StoredSpec } from '../records.js';
import type { TaskRecord } from '../tasks/task-records.js';

export interface StartRun {
  readonly task: TaskRecord;
  /** The spec of the task's version, as stored (validated when it was created). */
  readonly spec: StoredSpec;
  readonly store: CheckpointStore;
}

export type TaskRunner = (run: StartRun) => PipelineHandle;

export interface EngineRunnerOptions {
  readonly registry: ComponentRegistry;
  /** The node's data dir: each task's local state goes under `tasks/<pipeline>/<task>`. */
  readonly dataDir: string;
  readonly metrics?: PipelineMetrics;
  readonly logger?: Logger;
  /** How often a task checkpoints (default 1 s, the cluster store's batch interval). */
  readonly checkpointEveryMs?: number;
  /**
   * What this node does to a stored spec before running it: confine it by its own `--allow-*` policy and resolve
   * its secret references from its own environment (`security/admit.ts`). A refusal fails the task with its error.
   */
  readonly admit?: (spec: PipelineSpec) => PipelineSpec;
}

export function engineRunner(o: EngineRunnerOptions): TaskRunner {
  return ({ task, spec, store }) => {
    // The spec was validated by the API (`pipeline-body.ts`) before it was stored; only the source is the task's own.
    const taskSpec = { ...(spec as unknown as PipelineSpec), source: task.source as unknown as PipelineSpec['source'] };
    return runPipeline({
      spec: o.admit ? o.admit(taskSpec) : taskSpec,
      registry: o.registry,
      checkpointStore: store,
      checkpointKey: `${task.pipeline}/${task.task}`,
      partition: task.task,
      dataDir: path.join(o.dataDir, 'tasks', task.pipeline, encodeURIComponent(task.task)),
      checkpoint: { everyMs: o.checkpointEveryMs ?? 1000 },
      ...(o.metrics ? { metrics: o.metrics } : {}),
      ...(o.logger ? { logger: o.logger } : {}),
    });
  };
}
