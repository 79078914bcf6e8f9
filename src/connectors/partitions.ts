/**
 * How a pipeline splits into tasks: one per partition its source declares (`ComponentDefinition.partitions`),
 * one task `0` for a source that declares none. The cluster's leader calls this when it makes a pipeline's
 * tasks; it sees ids and task configs only, so a new kind of partitioned source changes nothing there.
 */
import { WireError } from '../core/errors.js';
import { sourceDefinitions } from './registry.js';

/** One task of a pipeline: its partition's id and the source section (`{ type, config }`) the task runs. */
export interface TaskPartition {
  readonly id: string;
  readonly source: Record<string, unknown>;
}

/** A pipeline's tasks, from its source section (`{ type, config }`), in the order the source declares them. */
export async function partitionsOf(source: Record<string, unknown>): Promise<TaskPartition[]> {
  const { type, config = {} } = source;
  if (typeof type !== 'string') throw new WireError('INVALID_INPUT', 'source.type: required', { field: 'source.type' });
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new WireError('INVALID_INPUT', 'source.config: must be an object', { field: 'source.config' });
  }
  const definition = sourceDefinitions.find((d) => d.type === type);
  if (definition === undefined) throw new WireError('INVALID_INPUT', `source.type: no source ${type}`, { field: 'source.type', type });
  if (definition.partitions === undefined) return [{ id: '0', source }];
  const declared = await definition.partitions(config as Record<string, unknown>);
  if (declared.length === 0) throw new WireError('INTERNAL', `source ${type} declared no partitions`);
  const ids = new Set<string>();
  for (const { id } of declared) {
    // A connector's bug, not the user's: two tasks under one id would share a checkpoint.
    if (id === '' || ids.has(id)) throw new WireError('INTERNAL', `source ${type} declared partition ${JSON.stringify(id)} twice or empty`);
    ids.add(id);
  }
  return declared.map(({ id, config: own }) => ({ id, source: { ...source, config: own } }));
}
