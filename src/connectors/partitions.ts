/**
 * How a pipeline splits into tasks. Stand-in until the partitioned sources land (issue 11, h11-sched): every
 * source is one task `0` running the pipeline's source as it is.
 */

/** One task of a pipeline: its partition's id and the source section (`{ type, config }`) the task runs. */
export interface TaskPartition {
  readonly id: string;
  readonly source: Record<string, unknown>;
}

export async function partitionsOf(source: Record<string, unknown>): Promise<TaskPartition[]> {
  return [{ id: '0', source }];
}
