/**
 * The leader's ReadIndex and lease bookkeeping. Every heartbeat broadcast opens a new round and carries
 * its number; followers echo it. A read is recorded for the next round: once a quorum has echoed round r,
 * the leader was still leader after every read of round ≤ r was recorded, so those reads may be served
 * at their recorded index. With leaseReads the send time of each round is kept too: the lease runs from
 * the send time of the latest round a quorum echoed (see `lease.ts`).
 */
import { invariant } from './assert.js';
import { quorumValue } from './quorum.js';
import type { NodeId } from './types.js';

/** Bound on queued reads: past it new reads are refused (retryable) rather than growing memory. */
export const MAX_PENDING_READS = 10_000;

/** Bound on remembered send times: rounds older than this many broadcasts are far past any lease. */
const MAX_SEND_TIMES = 1024;

export interface ReadRequest {
  readonly ctx: string;
  /** Who asked: this node or a follower that forwarded it. */
  readonly from: NodeId;
  readonly index: number;
  readonly round: number;
}

export class ReadOnlyTracker {
  private pending: ReadRequest[] = [];
  private acked = new Map<NodeId, number>();
  private currentRound = 0;
  /** Send times of recent rounds, oldest first (only when the leader keeps a lease). */
  private sendTimes: { round: number; at: number }[] = [];

  /** The round of the latest heartbeat broadcast. */
  get round(): number {
    return this.currentRound;
  }

  get size(): number {
    return this.pending.length;
  }

  full(): boolean {
    return this.pending.length >= MAX_PENDING_READS;
  }

  /** Records a read at `index`; a quorum echo of the next heartbeat broadcast confirms it. */
  add(ctx: string, from: NodeId, index: number): void {
    invariant(!this.full(), 'read queue overflow');
    this.pending.push({ ctx, from, index, round: this.currentRound + 1 });
  }

  /** Opens the round of a heartbeat broadcast (sent at `at`, when the leader keeps a lease) and returns it. */
  nextRound(at?: number): number {
    this.currentRound++;
    if (at !== undefined) {
      this.sendTimes.push({ round: this.currentRound, at });
      if (this.sendTimes.length > MAX_SEND_TIMES) this.sendTimes.shift();
    }
    return this.currentRound;
  }

  ack(from: NodeId, round: number): void {
    if (round > (this.acked.get(from) ?? 0)) this.acked.set(from, round);
  }

  /** The latest round a quorum of `voters` echoed (this leader counts for every round it sent). */
  confirmedRound(voters: readonly NodeId[], self: NodeId): number {
    return quorumValue(voters, (id) => (id === self ? this.currentRound : (this.acked.get(id) ?? 0)));
  }

  /** Removes and returns every request confirmed by a quorum of `voters`. */
  release(voters: readonly NodeId[], self: NodeId): ReadRequest[] {
    if (this.pending.length === 0) return [];
    const confirmed = this.confirmedRound(voters, self);
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.round <= confirmed) n++;
    return this.pending.splice(0, n);
  }

  /** When the latest round a quorum of `voters` echoed was sent, if it is still remembered. */
  confirmedSendTime(voters: readonly NodeId[], self: NodeId): number | undefined {
    const confirmed = this.confirmedRound(voters, self);
    // Older rounds can never confirm a later lease: forget them.
    while (this.sendTimes.length > 0 && this.sendTimes[0]!.round < confirmed) this.sendTimes.shift();
    const first = this.sendTimes[0];
    return first !== undefined && first.round === confirmed ? first.at : undefined;
  }

  reset(): void {
    this.pending = [];
    this.acked = new Map();
    this.currentRound = 0;
    this.sendTimes = [];
  }
}
