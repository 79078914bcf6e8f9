/**
 * The keyspaces of the replicated state: one LMDB named database each, in one environment, so one write
 * transaction changes any of them together with the applied index. Keys use LMDB's ordered-binary
 * encoding (strings, or arrays of strings and numbers, compared element by element); values are canonical
 * msgpack (`codec.ts`).
 *
 * The order of `SNAPSHOT_KEYSPACES` is the order of a snapshot's entries. Adding a keyspace to it (part 2's
 * tasks and checkpoints are already here, empty) keeps old snapshots readable; a snapshot naming a keyspace
 * this build does not know is refused.
 */
export const KEYSPACES = {
  /** `applied` → { index, term }; `format` → the on-disk format version. Not in snapshots (the header carries it). */
  meta: 'meta',
  /** `cluster` → ClusterRecord. */
  cluster: 'cluster',
  /** node id → NodeRecord. */
  nodes: 'nodes',
  /** pipeline name → PipelineRecord (the current version). */
  pipelines: 'pipelines',
  /** [pipeline name, version] → PipelineVersionRecord: every version, the current one included. */
  pipelineVersions: 'pipeline_versions',
  /** [pipeline name, task] → TaskRecord (node, epoch, version: `tasks/task-records.ts`). */
  tasks: 'tasks',
  /** [pipeline name, task] → TaskCheckpointRecord (epoch, seq, the engine's checkpoint). */
  checkpoints: 'checkpoints',
  /** Reserved for the security issue: token id → hashed token and role. */
  tokens: 'tokens',
  /** Reserved for the security issue: [time, index] → audit entry. */
  audit: 'audit',
} as const;

export type KeyspaceName = (typeof KEYSPACES)[keyof typeof KEYSPACES];

export const SNAPSHOT_KEYSPACES: readonly KeyspaceName[] = [
  KEYSPACES.cluster,
  KEYSPACES.nodes,
  KEYSPACES.pipelines,
  KEYSPACES.pipelineVersions,
  KEYSPACES.tasks,
  KEYSPACES.checkpoints,
  KEYSPACES.tokens,
  KEYSPACES.audit,
];

export const ALL_KEYSPACES: readonly KeyspaceName[] = [KEYSPACES.meta, ...SNAPSHOT_KEYSPACES];

/** A key as LMDB's ordered-binary encoding takes it. */
export type StateKey = string | (string | number)[];

export function isStateKey(value: unknown): value is StateKey {
  if (typeof value === 'string') return value.length > 0;
  return Array.isArray(value) && value.length > 0 && value.every((part) => typeof part === 'string' || (typeof part === 'number' && Number.isFinite(part)));
}

export function isSnapshotKeyspace(name: unknown): name is KeyspaceName {
  return typeof name === 'string' && (SNAPSHOT_KEYSPACES as readonly string[]).includes(name);
}
