/** The records the replicated state holds, one type per keyspace (see `keyspaces.ts`). */

/** The format of the state's records; a cluster keeps the one it was created with until an upgrade moves it. */
export const STATE_FORMAT_VERSION = 1;

export interface ClusterRecord {
  readonly id: string;
  /** The format of the state's records (`STATE_FORMAT_VERSION` when created). */
  readonly version: number;
  /** Milliseconds since the epoch, from the proposer. */
  readonly createdAt: number;
}

export const NODE_ROLES = ['voter', 'learner'] as const;
export type NodeRole = (typeof NODE_ROLES)[number];

export interface NodeRecord {
  readonly id: string;
  /** host:port of the node-to-node (Raft and cluster RPC) listener, as peers reach it. */
  readonly raftAddress: string;
  /** host:port of the HTTP API, as clients reach it. */
  readonly httpAddress: string;
  readonly role: NodeRole;
  readonly labels: Readonly<Record<string, string>>;
  readonly updatedAt: number;
}

export const DESIRED_STATES = ['running', 'stopped', 'paused'] as const;
export type DesiredState = (typeof DESIRED_STATES)[number];

/** A pipeline spec as stored: a JSON object, validated against the connector registry by the proposer. */
export type StoredSpec = Readonly<Record<string, unknown>>;

export interface PipelineRecord {
  readonly name: string;
  /** The current version: 1 at create, one more at every replace or rollback. */
  readonly version: number;
  readonly spec: StoredSpec;
  readonly desired: DesiredState;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export const VERSION_ORIGINS = ['create', 'replace', 'rollback'] as const;
export type VersionOrigin = (typeof VERSION_ORIGINS)[number];

export interface PipelineVersionRecord {
  readonly version: number;
  readonly spec: StoredSpec;
  readonly origin: VersionOrigin;
  /** For a rollback: the version whose spec this one copies. */
  readonly from?: number;
  /** Its tasks start afresh: no checkpoint of an earlier version is resumed from (`update --reset`). */
  readonly reset?: true;
  readonly createdAt: number;
}

export interface AppliedPoint {
  readonly index: number;
  readonly term: number;
}
