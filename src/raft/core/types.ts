/**
 * The data types of Wire's Raft, shared by the pure core, the driver, storage and transport.
 * Everything here is plain data so it can be persisted and sent as it is (msgpack).
 */

export type NodeId = string;

export const ENTRY_NORMAL = 0;
export const ENTRY_CONF_CHANGE = 1;
export type EntryType = typeof ENTRY_NORMAL | typeof ENTRY_CONF_CHANGE;

/** One log entry. A normal entry with empty data is the leader's no-op at the start of its term. */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must be durable before a vote or an append is acknowledged. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

export interface Member {
  readonly id: NodeId;
  /** How other nodes reach it (host:port); opaque to the core. */
  readonly address: string;
}

/** The cluster configuration: voters and learners (non-voters). Lives in the log and in snapshots. */
export interface Membership {
  readonly voters: readonly Member[];
  readonly learners: readonly Member[];
}

/** A single-server membership change, carried in an ENTRY_CONF_CHANGE entry. */
export type ConfChange =
  | { readonly op: 'addLearner'; readonly member: Member }
  | { readonly op: 'promote'; readonly id: NodeId }
  | { readonly op: 'remove'; readonly id: NodeId };

export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly membership: Membership;
  /** Byte size of the state machine's snapshot data. */
  readonly size: number;
  /** CRC-32C of the snapshot data. */
  readonly checksum: number;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: null, commit: 0 };
