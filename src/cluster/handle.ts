/**
 * What a running Wire node offers the HTTP API and the CLI (`startNode` returns one): the node's status, writes
 * (proposed here when this node leads, forwarded to the leader over the node RPC otherwise), reads of the
 * replicated state, membership changes and readiness. The API codes against this interface only.
 */
import type { Registry } from 'prom-client';
import type { ClusterCommand } from './commands.js';
import type { TaskStatus } from './agent/task-status.js';
import type { StateReader } from './state-view.js';

/** A node's Raft role as the API shows it; a learner is a follower that does not vote. */
export type NodeRoleName = 'leader' | 'follower' | 'candidate' | 'learner' | 'joining' | 'stopped';

export interface MemberStatus {
  readonly id: string;
  /** host:port of the node port (Raft and cluster RPC), as peers reach it. */
  readonly raftAddress: string;
  /** host:port of the HTTP API, as clients reach it ('' if the node has not told the cluster yet). */
  readonly httpAddress: string;
  readonly voter: boolean;
  /** Whether this node heard from it recently (always true for itself). */
  readonly reachable: boolean;
  readonly leader: boolean;
}

export interface ClusterStatus {
  readonly id: string;
  readonly role: NodeRoleName;
  readonly leaderId: string | null;
  /** The leader's HTTP address (host:port), or null when there is no leader or it is not known yet. */
  readonly leaderHttp: string | null;
  readonly term: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  /** Null until the cluster is formed (a node waiting for --bootstrap-expect peers or for its join). */
  readonly clusterId: string | null;
  readonly members: readonly MemberStatus[];
}

export interface WriteOptions {
  /**
   * When this node is not the leader, fail with NOT_LEADER (details `{ leaderId, leaderHttp }`) instead of
   * forwarding: the API answers 307 to the leader's HTTP address.
   */
  readonly redirect?: boolean;
  /** How long to wait for the command to commit and apply (default: the node's request timeout). */
  readonly timeoutMs?: number;
}

export interface WriteResult {
  /** The log index of the command's entry. */
  readonly index: number;
  /** What applying it returned (`CommandOutcome` of `transitions.ts`: the record written). */
  readonly result: unknown;
  /** The id of the node that proposed it (the leader). */
  readonly servedBy: string;
}

export interface ReadOptions {
  /** Linearizable: wait for Raft's ReadIndex (through the leader) and for this node to apply up to it. */
  readonly consistent?: boolean;
}

export interface ReadinessCheck {
  /** e.g. `node`, `leader`, `store` (the original Wire's `[+]node ok` lines). */
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface Readiness {
  readonly ok: boolean;
  readonly checks: readonly ReadinessCheck[];
}

export interface ClusterHandle {
  readonly id: string;
  status(): ClusterStatus;
  /**
   * Validates `command` (INVALID_INPUT, NOT_FOUND, CONFLICT… before anything is proposed: its shape here, the
   * state's rules on the leader), proposes it on the leader (forwarding it when this node follows) and resolves
   * once it is committed and applied on this node.
   * A command rejected on apply rejects with its WireError; no leader within the timeout is UNAVAILABLE.
   */
  write(command: ClusterCommand, options?: WriteOptions): Promise<WriteResult>;
  /** Runs `fn` on this node's state: local by default (may be stale on a follower), linearizable when `consistent`. */
  read<T>(fn: (state: StateReader) => T, options?: ReadOptions): Promise<T>;
  /**
   * A hot backup: the whole state as one snapshot stream (`snapshot-format.ts`), from one read transaction.
   * With `consistent` (ReadIndex first) it holds every write committed before the call.
   */
  backup(options?: ReadOptions): Promise<AsyncIterable<Uint8Array>>;
  /** Removes a node from the Raft membership and the state (forwarded to the leader). NOT_FOUND for an unknown id. */
  removeNode(id: string): Promise<void>;
  /** Hands leadership to `to` (or the most up-to-date voter); resolves with the new leader's id. */
  transferLeader(to?: string): Promise<string>;
  ready(): Readiness;
  /** Every task of a pipeline: assignment and checkpoint from the state, counts and errors from the leader. */
  tasks?(pipeline: string): Promise<TaskStatus[]>;
  /** Node and Raft metrics (`wire_raft_*`, `wire_node_*`), collected on scrape. */
  readonly metrics: Registry;
}
