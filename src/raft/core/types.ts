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

/**
 * The payload of an ENTRY_CONF_CHANGE entry: a single-server change, or the founding membership a new
 * cluster writes at index 1 (so that a node joining later learns the whole configuration from the log).
 */
export type ConfPayload = ConfChange | { readonly op: 'bootstrap'; readonly membership: Membership };

// ---------------------------------------------------------------------------------------------------
// Messages. Plain data, so the transport can encode them as they are. Every message carries the
// sender's term; `to` lets one transport frame stream serve many peers.
// ---------------------------------------------------------------------------------------------------

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
}

/** Leader → follower: entries after (prevIndex, prevTerm), and the leader's commit index. */
export interface AppendMessage extends MessageBase {
  readonly type: 'append';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

/**
 * Follower → leader. On success `index` is the last index the follower now matches. On reject `index`
 * is the rejected `prevIndex`, and (hintIndex, hintTerm) say where the follower's log may match: the
 * largest index ≤ hintIndex whose term ≤ the leader's prevTerm (fast backtracking).
 */
export interface AppendResponseMessage extends MessageBase {
  readonly type: 'appendResponse';
  readonly reject: boolean;
  readonly index: number;
  readonly hintIndex: number;
  readonly hintTerm: number;
}

/** Leader → follower: liveness and commit (bounded by what the follower is known to match). */
export interface HeartbeatMessage extends MessageBase {
  readonly type: 'heartbeat';
  readonly commit: number;
  /** The leader's ReadIndex round; echoed back so one round confirms every read queued before it. */
  readonly readRound: number;
}

export interface HeartbeatResponseMessage extends MessageBase {
  readonly type: 'heartbeatResponse';
  readonly readRound: number;
}

/**
 * A (pre-)candidate asks for a vote. A pre-vote carries the term the sender *would* campaign at, and
 * changes nobody's term. `transfer` marks a campaign started by TimeoutNow, which must not be ignored
 * by leader stickiness.
 */
export interface VoteMessage extends MessageBase {
  readonly type: 'vote' | 'preVote';
  readonly lastIndex: number;
  readonly lastTerm: number;
  readonly transfer: boolean;
}

export interface VoteResponseMessage extends MessageBase {
  readonly type: 'voteResponse' | 'preVoteResponse';
  readonly reject: boolean;
}

/**
 * Leader → follower: "install this snapshot". Only the metadata: the driver streams the data in
 * chunks and, once the follower's driver holds all of it, steps this same message into the
 * follower's core.
 */
export interface SnapshotMessage extends MessageBase {
  readonly type: 'snapshot';
  readonly snapshot: SnapshotMeta;
}

/** Leader → transferee: campaign now (leadership transfer). */
export interface TimeoutNowMessage extends MessageBase {
  readonly type: 'timeoutNow';
}

/** Follower → leader: a ReadIndex request forwarded on behalf of the follower's client. */
export interface ReadIndexMessage extends MessageBase {
  readonly type: 'readIndex';
  readonly ctx: string;
}

/** Leader → follower: the read index for `ctx` (the follower serves the read once it applied `index`). */
export interface ReadIndexResponseMessage extends MessageBase {
  readonly type: 'readIndexResponse';
  readonly ctx: string;
  readonly index: number;
}

export type Message =
  | AppendMessage
  | AppendResponseMessage
  | HeartbeatMessage
  | HeartbeatResponseMessage
  | VoteMessage
  | VoteResponseMessage
  | SnapshotMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexResponseMessage;

export type MessageType = Message['type'];

// ---------------------------------------------------------------------------------------------------
// What the core hands to its driver.
// ---------------------------------------------------------------------------------------------------

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state the driver may want to observe (not persisted). */
export interface SoftState {
  readonly role: Role;
  readonly leader: NodeId | null;
}

/** The answer to a ReadIndex request: reads for `ctx` may be served once `index` is applied. */
export interface ReadState {
  readonly ctx: string;
  readonly index: number;
}

/**
 * A batch of work for the driver. Process it in this order, then call `advance(ready)`:
 * 1. install `snapshot` (restore the state machine, reset the log to it), if present;
 * 2. append `entries` and save `hardState` durably (one fsync for both: group commit);
 * 3. only then send `messages` — they may acknowledge votes and entries of this very Ready, so sending
 *    them before step 2 is durable breaks Raft's safety;
 * 4. apply `committedEntries` in order (normal entries with empty data are no-ops; conf-change entries
 *    are applied by the core itself and should be skipped by the state machine);
 * 5. answer `readStates` once the applied index reaches each state's index.
 * Only one Ready is outstanding at a time: `ready()` throws until the previous one is advanced.
 */
export interface Ready {
  /** Present when role or leader changed since the previous Ready. */
  readonly softState?: SoftState;
  /** Present when term, vote or commit changed: persist it. */
  readonly hardState?: HardState;
  /** A snapshot received from the leader, to install before `entries`. */
  readonly snapshot?: SnapshotMeta;
  /** Entries to append to the durable log, in order (may overwrite a conflicting suffix). */
  readonly entries: readonly Entry[];
  /** Messages to send, only after `hardState`, `entries` and `snapshot` of this Ready are durable. */
  readonly messages: readonly Message[];
  /** Committed entries to apply, in order. */
  readonly committedEntries: readonly Entry[];
  /** ReadIndex results. */
  readonly readStates: readonly ReadState[];
}

// ---------------------------------------------------------------------------------------------------
// Configuration, restoration, results and status.
// ---------------------------------------------------------------------------------------------------

export interface LeaseClock {
  now(): number;
  readonly tickMs: number;
}

export interface RaftConfig {
  /** This node's id. */
  readonly id: NodeId;
  /** Ticks without hearing from a leader before campaigning; the actual timeout is random in [electionTick, 2·electionTick). */
  readonly electionTick: number;
  /** Ticks between a leader's heartbeats; must be smaller than electionTick. */
  readonly heartbeatTick: number;
  /** Uniform random number in [0, 1): the only source of randomness (election jitter). */
  readonly random: () => number;
  /** Pre-vote (default true): a node must win a pre-election before it may raise its term. */
  readonly preVote?: boolean;
  /** Check-quorum (default true): a leader steps down without a live quorum; followers with a live leader ignore votes. */
  readonly checkQuorum?: boolean;
  /**
   * Serve ReadIndex from the leader's lease, without a heartbeat round (default false; requires checkQuorum
   * and `clock`, and the same setting on every node of the cluster). See `lease.ts` for the rule.
   */
  readonly leaseReads?: boolean;
  /** Real time, for leaseReads: a monotonic clock in milliseconds and the real duration of one tick. */
  readonly clock?: LeaseClock;
  /** Max entries per append message (default 256). */
  readonly maxEntriesPerMsg?: number;
  /** Max entry data bytes per append message (default 1 MiB; one entry is always allowed). */
  readonly maxBytesPerMsg?: number;
  /**
   * Hard limit on an append message's encoded size: at most the transport's frame limit (default 16 MiB,
   * the TCP transport's default). Appends are cut to fit, and a proposal that could not fit in an append
   * of its own is refused (see `maxEntryBytes`).
   */
  readonly maxMessageBytes?: number;
  /** Max append messages in flight per follower in the replicate state (default 64). */
  readonly maxInflight?: number;
  /** Max bytes of proposed-but-uncommitted entry data on a leader (default 64 MiB). */
  readonly maxUncommittedBytes?: number;
  /** Max bytes of committed entries handed out per Ready (default 16 MiB; one entry is always allowed). */
  readonly maxCommittedBytesPerReady?: number;
  /**
   * Hold back commit-only appends (default false). When the commit index advances and no follower needs
   * entries, a leader sends the new commit index with its next append, or once the driver calls
   * `flushCommit()`, instead of in an empty append at once. At low concurrency that saves a message and an
   * answer per follower and per write; followers learn commits later (heartbeats carry them too).
   */
  readonly holdCommit?: boolean;
}

/** Read-only view of the durable log (a `LogStore` satisfies it). Must reflect every advanced Ready. */
export interface LogReader {
  firstIndex(): number;
  lastIndex(): number;
  term(index: number): number | undefined;
  entries(lo: number, hi: number, maxBytes?: number): Entry[];
}

/** The durable state a core starts from. */
export interface RestoredState {
  readonly hardState: HardState;
  /**
   * The configuration before the log: when `snapshot` is given this must equal its membership; else the
   * founding membership (identical on every founder) or, for a node that will join an existing cluster,
   * `{ voters: [], learners: [] }`. Conf-change entries of the log up to the commit index are folded in.
   */
  readonly membership: Membership;
  /** The latest durable snapshot, if any. */
  readonly snapshot?: SnapshotMeta;
  readonly log: LogReader;
  /** Index the state machine has durably applied (default: the snapshot index, or 0). */
  readonly applied?: number;
}

/** Why a request was not accepted. */
export type Refusal =
  /** Not the leader: retry at `leader` (null while unknown). */
  | { readonly ok: false; readonly reason: 'notLeader'; readonly leader: NodeId | null }
  /** The leader cannot take it now (transfer in progress, uncommitted-bytes cap, pending conf change): retry later. */
  | { readonly ok: false; readonly reason: 'dropped'; readonly leader: NodeId | null; readonly detail: string }
  /** The request can never succeed (e.g. promoting an unknown server). */
  | { readonly ok: false; readonly reason: 'invalid'; readonly detail: string };

export type ProposeResult = { readonly ok: true; readonly index: number; readonly term: number } | Refusal;

export type ReadIndexResult = { readonly ok: true } | Refusal;

export type TransferResult = { readonly ok: true; readonly to: NodeId } | Refusal;

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** The leader's view of one peer. */
export interface PeerStatus {
  readonly id: NodeId;
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly inflight: number;
  readonly recentActive: boolean;
  readonly learner: boolean;
}

export interface Status {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly leader: NodeId | null;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  /** The configuration in effect (conf changes take effect when committed). */
  readonly membership: Membership;
  /** Per-peer progress; empty unless leader. */
  readonly progress: readonly PeerStatus[];
  readonly leadTransferee: NodeId | null;
  readonly uncommittedBytes: number;
  /** Well-formed messages dropped because no honest peer sends them here (e.g. a second leader in a term). */
  readonly droppedMessages: number;
}
