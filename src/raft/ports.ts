/**
 * The ports of Wire's Raft: what the driver (`raft/node`) needs from storage, the network and the
 * user's state machine. The simulator implements them in memory; `raft/storage` and `raft/transport`
 * implement them for real.
 */
import type { Entry, HardState, Membership, NodeId, SnapshotMeta } from './core/types.js';

/**
 * The durable log. Reads are synchronous (served from memory or a memory-mapped store); writes resolve
 * once durable (fsynced). Writes issued in the same tick may share one fsync (group commit).
 * Invariant: indexes are contiguous from `firstIndex()` to `lastIndex()`.
 */
export interface LogStore {
  /** Index of the first entry kept (after compaction: snapshot index + 1). */
  firstIndex(): number;
  /** Index of the last entry, or the snapshot index when the log is empty. */
  lastIndex(): number;
  /** Term of the entry at `index`; also answers for the compaction point (the snapshot index). */
  term(index: number): number | undefined;
  /** Entries in [lo, hi), stopping early once `maxBytes` of data is reached (at least one entry). */
  entries(lo: number, hi: number, maxBytes?: number): Entry[];
  /**
   * Appends entries, first deleting any existing entries at or after `entries[0].index`. With
   * `background`, the caller has work to do while they are written (a leader's appends to send): a
   * store that could make a small write durable on the calling thread, blocking it, does not.
   */
  append(entries: readonly Entry[], options?: { background?: boolean }): Promise<void>;
  /** Drops entries up to and including `index`, remembering its term (after a snapshot). */
  compact(index: number, term: number): Promise<void>;
  /** Replaces the whole log with nothing but a compaction point (after installing a snapshot). */
  reset(index: number, term: number): Promise<void>;
  close(): Promise<void>;
}

export interface StableStore {
  loadHardState(): HardState;
  /**
   * Resolves once durable. With `sync: false` (a change of the commit index alone, which a node
   * re-learns from the leader after a crash) it may resolve once written, made durable by a later fsync.
   * Writes to a node's log and stable stores reach the disk in the order they were issued (a crash
   * keeps a prefix of them), so the driver need not wait for such a write before issuing the next.
   */
  saveHardState(state: HardState, options?: { sync?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export interface SnapshotWriter {
  write(chunk: Uint8Array): Promise<void>;
  /** Seals the snapshot (checksum, metadata), making it the latest; old ones beyond retention are deleted. */
  commit(): Promise<SnapshotMeta>;
  abort(): Promise<void>;
}

/** Assembles a snapshot sent by the leader in chunks (InstallSnapshot). */
export interface SnapshotReceiver {
  /** The leader's metadata the received bytes must match. */
  readonly meta: SnapshotMeta;
  /** Bytes held so far, contiguous from 0: where the sender should resume. */
  readonly received: number;
  /**
   * Writes `chunk` at `offset`: bytes already held are skipped, a chunk past `received` is refused.
   * Resolves to the new `received`.
   */
  writeAt(offset: number, chunk: Uint8Array): Promise<number>;
  /** Verifies size and checksum against `meta`, then seals it as the latest snapshot. */
  seal(): Promise<SnapshotMeta>;
  abort(): Promise<void>;
}

export interface SnapshotStore {
  /** Starts a snapshot at `index`/`term` with `membership`. */
  create(index: number, term: number, membership: Membership): Promise<SnapshotWriter>;
  /** Starts receiving the leader's snapshot described by `meta`. */
  receive(meta: SnapshotMeta): Promise<SnapshotReceiver>;
  /** The newest sealed snapshot, if any. */
  latest(): SnapshotMeta | undefined;
  /** Reads up to `length` bytes of the snapshot `meta` names from `offset` (for chunked InstallSnapshot). */
  read(meta: SnapshotMeta, offset: number, length: number): Promise<Uint8Array>;
  /**
   * Keeps snapshot `meta` from retention while it is being sent, however many newer ones are taken
   * meanwhile; the returned function releases it (calling it again does nothing).
   */
  pin(meta: SnapshotMeta): () => void;
  /** Streams the data of a snapshot, failing at the end if it does not match its checksum. */
  open(meta: SnapshotMeta): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

/** Sends and receives messages between nodes. Delivery is best effort: Raft retries what matters. */
export interface Transport<M = unknown> {
  /** Queues a message for a peer; never throws for an unreachable peer (the message is dropped). */
  send(to: NodeId, address: string, message: M): void;
  onMessage(handler: (from: NodeId, message: M) => void): void;
  /**
   * Hands what `send` queued to the network now rather than at the end of the turn. The driver calls it
   * once a Ready's messages are queued, so that they leave before it starts its own disk write or runs
   * the state machine. Optional: a transport without it sends when it likes.
   */
  flush?(): void;
  /** The address a peer announced when it connected, if the transport learns them (lets a new node answer a leader it has no address for yet). */
  addressOf?(id: NodeId): string | undefined;
  close(): Promise<void>;
}

/** The user's replicated state machine. */
export interface StateMachine {
  /** Applies committed normal entries in order; returns one result per entry (resolves proposals). */
  apply(entries: readonly Entry[]): unknown[] | Promise<unknown[]>;
  /** A point-in-time snapshot of the state, as a stream of bytes. */
  snapshot(): AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>;
  /** Replaces the whole state with a snapshot's data. */
  restore(data: AsyncIterable<Uint8Array>, meta: SnapshotMeta): Promise<void>;
  /** The index of the last entry applied, as the state machine itself persisted it (0 if it keeps none). */
  appliedIndex?(): number;
}
