/**
 * The leader's ReadIndex bookkeeping. Each request gets a round number; heartbeats carry the latest
 * round and followers echo it. Once a quorum has echoed round r, the leader was still leader after
 * every request of round ≤ r was recorded, so those reads may be served at their recorded index.
 */
import { invariant } from './assert.js';
import { quorumValue } from './quorum.js';
import type { NodeId } from './types.js';

/** Bound on queued reads: past it new reads are refused (retryable) rather than growing memory. */
export const MAX_PENDING_READS = 10_000;

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

  get round(): number {
    return this.currentRound;
  }

  get size(): number {
    return this.pending.length;
  }

  full(): boolean {
    return this.pending.length >= MAX_PENDING_READS;
  }

  /** Records a read at `index`; returns the round the confirming heartbeats must carry. */
  add(ctx: string, from: NodeId, index: number): number {
    invariant(!this.full(), 'read queue overflow');
    this.currentRound++;
    this.pending.push({ ctx, from, index, round: this.currentRound });
    return this.currentRound;
  }

  ack(from: NodeId, round: number): void {
    if (round > (this.acked.get(from) ?? 0)) this.acked.set(from, round);
  }

  /** Removes and returns every request confirmed by a quorum of `voters` (which include `self`). */
  release(voters: readonly NodeId[], self: NodeId): ReadRequest[] {
    if (this.pending.length === 0) return [];
    const confirmed = quorumValue(voters, (id) => (id === self ? this.currentRound : (this.acked.get(id) ?? 0)));
    let n = 0;
    while (n < this.pending.length && this.pending[n]!.round <= confirmed) n++;
    return this.pending.splice(0, n);
  }

  reset(): void {
    this.pending = [];
    this.acked = new Map();
    this.currentRound = 0;
  }
}
