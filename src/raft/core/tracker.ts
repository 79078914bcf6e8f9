/**
 * The leader's view of the cluster (etcd's tracker): one Progress per member, kept in step with the
 * membership, and the quorum questions asked of it — what index a majority of voters holds, whether a
 * majority was heard from recently, who is the most up-to-date voter.
 */
import { invariant } from './assert.js';
import { allMembers, isMemberOf, isVoter } from './membership.js';
import { Progress } from './progress.js';
import { quorumValue } from './quorum.js';
import type { Membership, NodeId, PeerStatus } from './types.js';

export class ProgressTracker {
  private readonly peers = new Map<NodeId, Progress>();
  private voters: NodeId[];

  /** Starts tracking every member of `membership`, expecting to send `next` to each. */
  constructor(
    private readonly self: NodeId,
    membership: Membership,
    next: number,
    private readonly maxInflight: number,
  ) {
    this.voters = membership.voters.map((v) => v.id);
    this.update(membership, next);
    invariant(this.peers.has(self), 'a leader must be a member');
    // A new leader has just heard from itself; the others must prove they are alive.
    for (const [id, pr] of this.peers) pr.recentActive = id === self;
  }

  /** Adds new members (probing from `next`), drops removed ones, and updates learner flags. */
  update(membership: Membership, next: number): void {
    this.voters = membership.voters.map((v) => v.id);
    for (const id of [...this.peers.keys()]) if (!isMemberOf(membership, id)) this.peers.delete(id);
    for (const m of allMembers(membership)) {
      const learner = !isVoter(membership, m.id);
      const pr = this.peers.get(m.id);
      if (pr !== undefined) {
        pr.learner = learner;
        continue;
      }
      const fresh = new Progress(next, this.maxInflight, learner);
      // A member just added gets the benefit of the doubt until the next check-quorum round.
      fresh.recentActive = true;
      this.peers.set(m.id, fresh);
    }
  }

  get(id: NodeId): Progress | undefined {
    return this.peers.get(id);
  }

  /** Every member other than this node. */
  others(): NodeId[] {
    return [...this.peers.keys()].filter((id) => id !== this.self);
  }

  voterIds(): readonly NodeId[] {
    return this.voters;
  }

  /** The largest index held by a majority of voters. */
  quorumMatch(): number {
    return quorumValue(this.voters, (id) => this.peers.get(id)?.match ?? 0);
  }

  /** Whether a majority of voters was heard from since the last `resetActivity`. */
  quorumActive(): boolean {
    return quorumValue(this.voters, (id) => (id === this.self || this.peers.get(id)?.recentActive === true ? 1 : 0)) === 1;
  }

  resetActivity(): void {
    for (const [id, pr] of this.peers) pr.recentActive = id === this.self;
  }

  /** The voter other than this node with the highest match (ties: the first voter listed). */
  mostUpToDateVoter(): NodeId | null {
    let best: NodeId | null = null;
    let bestMatch = -1;
    for (const id of this.voters) {
      if (id === this.self) continue;
      const match = this.peers.get(id)?.match ?? 0;
      if (match > bestMatch) {
        best = id;
        bestMatch = match;
      }
    }
    return best;
  }

  status(): PeerStatus[] {
    return [...this.peers.entries()].map(([id, pr]) => ({
      id,
      match: pr.match,
      next: pr.next,
      state: pr.state,
      inflight: pr.inflights.count,
      recentActive: pr.recentActive,
      learner: pr.learner,
    }));
  }
}
