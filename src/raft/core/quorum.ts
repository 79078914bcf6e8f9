/** Majority arithmetic over a set of voters. Learners are never passed in here. */
import { invariant } from './assert.js';
import type { NodeId } from './types.js';

export function majority(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/**
 * Reused by every `quorumValue` call (they never nest): a leader asks on each acknowledgement, and a
 * fresh array sorted by `Array.prototype.sort` (which copies it again) was one of its largest allocations.
 */
const scratch: number[] = [];

/** The largest value that a majority of voters has reached (e.g. the quorum-matched log index). */
export function quorumValue(voters: readonly NodeId[], valueOf: (id: NodeId) => number): number {
  invariant(voters.length > 0, 'no voters');
  // Insertion sort, largest first: a handful of voters.
  for (let i = 0; i < voters.length; i++) {
    const v = valueOf(voters[i]!);
    let j = i;
    for (; j > 0 && scratch[j - 1]! < v; j--) scratch[j] = scratch[j - 1]!;
    scratch[j] = v;
  }
  return scratch[majority(voters.length) - 1]!;
}

export type VoteOutcome = 'won' | 'lost' | 'pending';

export function voteOutcome(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteOutcome {
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === true) granted++;
    else if (v === false) rejected++;
  }
  const need = majority(voters.length);
  if (granted >= need) return 'won';
  if (rejected > voters.length - need) return 'lost';
  return 'pending';
}
