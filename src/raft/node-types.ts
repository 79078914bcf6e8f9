/** Options, status and events of `RaftNode` (the driver). */
import type { Clock } from './clock.js';
import type { Membership, NodeId, ProgressState, RaftConfig, Role } from './core/types.js';
import type { LogStore, SnapshotStore, StableStore, StateMachine, Transport } from './ports.js';
import type { WireMessage } from './snapshot/install-messages.js';

/** A node's durable state; `close` (when present, e.g. `openDiskStorage`) replaces closing each store. */
export interface RaftStorage {
  readonly log: LogStore;
  readonly stable: StableStore;
  readonly snapshots: SnapshotStore;
  close?(): Promise<void>;
}

export interface RaftNodeOptions {
  id: NodeId;
  /** Where peers reach this node (host:port), as the transport listens. */
  address: string;
  /** The founding membership (this node among its voters); needed only the first time a founder starts. */
  membership?: Membership;
  /** Start with no membership and wait to be added (as a learner) by the cluster's leader. */
  join?: boolean;
  /** Owned by the node from now on: closed by `stop()`. */
  storage: RaftStorage;
  /** Owned by the node from now on: closed by `stop()`. */
  transport: Transport<WireMessage>;
  stateMachine: StateMachine;
  /** Milliseconds per logical tick (default 100). */
  tickMs?: number;
  /** Election timeout in ticks (default 10; randomized up to twice that by the core). */
  electionTicks?: number;
  /** Heartbeat interval in ticks (default 1). */
  heartbeatTicks?: number;
  /** Take a snapshot when this many entries were applied since the last one (default 10,000). */
  snapshotThreshold?: number;
  /** Entries kept in the log behind a snapshot, for slow followers (default 1,000). */
  trailingEntries?: number;
  /** InstallSnapshot chunk size (default 512 KiB) and chunks in flight (default 4). */
  snapshotChunkBytes?: number;
  snapshotWindow?: number;
  /** Largest snapshot this node accepts from a leader, in bytes (default 16 GiB); a larger one is refused. */
  maxSnapshotBytes?: number;
  /**
   * How long a leader may hold a new commit index back, waiting for its next append to carry it, before
   * it sends it in an empty append (default 5 ms; 0 sends it at once). Under a steady load the next
   * append comes first, so each write needs no commit-only message and answer per follower.
   */
  commitHoldMs?: number;
  /** Default timeout of propose, readIndex, membership changes and transfers (default 10 s). */
  requestTimeoutMs?: number;
  /** Time and timers (default: the process's). The simulator gives each node a simulated clock. */
  clock?: Clock;
  /** Uniform [0, 1) random source (election jitter). Default Math.random. */
  random?: () => number;
  /**
   * Tuning passed through to the core (pre-vote, check-quorum, lease reads, batching limits...).
   * `maxMessageBytes` must not exceed the transport's frame limit (the TCP transport's `maxFrameBytes`).
   */
  raft?: Partial<Omit<RaftConfig, 'id' | 'electionTick' | 'heartbeatTick' | 'random' | 'clock'>>;
  /** Problems that do not stop the node (a failed snapshot transfer, a bad peer message). Default: ignored. */
  onError?: (err: Error) => void;
}

export interface PeerInfo {
  readonly id: NodeId;
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly learner: boolean;
}

export interface RaftNodeStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly leader: NodeId | null;
  readonly leaderAddress: string | null;
  readonly commit: number;
  readonly applied: number;
  readonly snapshotIndex: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly membership: Membership;
  /**
   * Peer messages dropped since start: malformed (a field of the wrong type or range), or well formed but
   * impossible from an honest peer (a second leader in a term, a snapshot chunk past its declared size).
   */
  readonly droppedMessages: number;
  /** Per-peer replication progress; empty unless this node leads. */
  readonly peers: readonly PeerInfo[];
}

export interface ProposeOutcome {
  readonly index: number;
  /** What the state machine's `apply` returned for this entry. */
  readonly result: unknown;
}

export interface RaftNodeEvents {
  leaderChange: [leader: NodeId | null, term: number];
  roleChange: [role: Role, term: number];
  /** The state machine has applied up to `index`. */
  applied: [index: number];
  /** An unrecoverable error (e.g. storage failure); the node stops itself. */
  fatal: [err: Error];
}
