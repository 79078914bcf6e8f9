/**
 * The leader's record of one peer's replication (etcd's tracker.Progress): how far it matches, what to
 * send next, and the flow-control state that decides whether it may be sent now.
 *  - probe: the match point is unknown; one append at a time until the follower answers.
 *  - replicate: the match point is known; appends are pipelined, up to `maxInflight` unacknowledged.
 *  - snapshot: the needed entries are compacted; nothing is sent until the snapshot is acknowledged
 *    or reported failed.
 */
import { invariant } from './assert.js';
import type { ProgressState } from './types.js';

/** A bounded FIFO of the last indexes of append messages not yet acknowledged. */
export class Inflights {
  private readonly lastIndexes: number[] = [];

  constructor(readonly capacity: number) {
    invariant(capacity > 0, 'inflight capacity must be positive');
  }

  get count(): number {
    return this.lastIndexes.length;
  }

  full(): boolean {
    return this.lastIndexes.length >= this.capacity;
  }

  add(lastIndex: number): void {
    invariant(!this.full(), 'inflight window overflow');
    const prev = this.lastIndexes[this.lastIndexes.length - 1];
    invariant(prev === undefined || lastIndex > prev, 'inflight indexes must increase');
    this.lastIndexes.push(lastIndex);
  }

  /** Frees every message whose entries end at or before `index` (they are acknowledged). */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.lastIndexes.length && this.lastIndexes[n]! <= index) n++;
    this.lastIndexes.splice(0, n);
  }

  freeFirst(): void {
    this.lastIndexes.shift();
  }

  reset(): void {
    this.lastIndexes.length = 0;
  }
}

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe: an append is outstanding; wait for its answer (or a heartbeat answer) before the next. */
  probeSent = false;
  /** In snapshot: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** In snapshot: check-quorum rounds passed since it was sent (see RaftCore's stalled-snapshot retry). */
  snapshotRounds = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  readonly inflights: Inflights;

  constructor(
    next: number,
    maxInflight: number,
    public learner: boolean,
  ) {
    invariant(next >= 1, 'next index must be positive');
    this.next = next;
    this.inflights = new Inflights(maxInflight);
  }

  private resetState(state: ProgressState): void {
    this.state = state;
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapshotRounds = 0;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot the follower holds at least the snapshot index.
    const floor = this.state === 'snapshot' ? Math.max(this.match, this.pendingSnapshot) : this.match;
    this.resetState('probe');
    this.next = floor + 1;
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** An acknowledgement of `index`; returns whether the match point moved. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A rejection of the append at `rejected` (its prevIndex), with the leader's best guess `matchHint`
   * of where the logs agree. Returns false for a stale rejection.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** Records an append of entries ending at `lastIndex` (or an empty one when `entries` is 0). */
  sentAppend(lastIndex: number, entries: number): void {
    if (this.state === 'replicate') {
      if (entries > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    } else {
      invariant(false, 'append sent to a peer in snapshot state');
    }
  }

  paused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
