/**
 * What a node starts from: its durable log, hard state and latest snapshot, made consistent with each
 * other, and the state machine brought to a known applied index.
 */
import { EMPTY_MEMBERSHIP, membershipAfter } from './core/membership.js';
import type { HardState, Membership, RestoredState, SnapshotMeta } from './core/types.js';
import { CorruptStorageError, RaftError } from './errors.js';
import type { RaftNodeOptions } from './node-types.js';

export interface RestoredNode {
  readonly restored: RestoredState;
  readonly applied: number;
  readonly appliedTerm: number;
  /** The membership as of `applied` (what a snapshot taken there records). */
  readonly appliedMembership: Membership;
}

export async function restoreNode(options: RaftNodeOptions): Promise<RestoredNode> {
  const { log, stable, snapshots } = options.storage;
  const snap: SnapshotMeta | undefined = snapshots.latest();
  let hardState: HardState = stable.loadHardState();
  const fresh = hardState.term === 0 && log.lastIndex() === 0 && !snap;
  if (fresh && !options.membership && !options.join) {
    throw new RaftError('INVALID_ARGUMENT', `node ${options.id} has no durable state: give the founding membership, or join: true`);
  }
  if (snap) {
    if (snap.index < log.firstIndex() - 1) {
      throw new CorruptStorageError(`log is compacted to ${log.firstIndex() - 1} but the newest snapshot is at ${snap.index}`);
    }
    // A snapshot is committed state. If the log does not hold it (crash between sealing a received
    // snapshot and resetting the log) or disagrees at its index (an uncommitted suffix), start from it.
    if (log.lastIndex() < snap.index || log.term(snap.index) !== snap.term) await log.reset(snap.index, snap.term);
    if (hardState.commit < snap.index) hardState = { ...hardState, commit: snap.index };
  } else if (log.firstIndex() > 1) {
    throw new CorruptStorageError(`log is compacted to ${log.firstIndex() - 1} but no snapshot is stored`);
  }

  const sm = options.stateMachine;
  const smApplied = sm.appliedIndex?.() ?? 0;
  // The commit index is persisted lazily (after applying); a state machine that persists its own
  // applied index may be ahead of it, and what it applied was committed.
  if (smApplied > hardState.commit && smApplied <= log.lastIndex()) hardState = { ...hardState, commit: smApplied };
  let applied = Math.min(smApplied, hardState.commit);
  let appliedTerm = applied > 0 ? (log.term(applied) ?? 0) : 0;
  let membership: Membership = snap?.membership ?? options.membership ?? EMPTY_MEMBERSHIP;
  let from = snap ? snap.index + 1 : 1;
  if (snap && applied < snap.index) {
    await sm.restore(snapshots.open(snap), snap);
    applied = snap.index;
    appliedTerm = snap.term;
  } else if (snap && applied >= snap.index && applied > 0 && log.term(applied) === undefined) {
    throw new CorruptStorageError(`state machine applied ${applied}, which the log no longer holds`);
  }
  // Fold the conf changes the state machine already applied, so snapshots record the right membership.
  for (; from <= applied; from++) {
    const entry = log.entries(from, from + 1)[0];
    if (entry) membership = membershipAfter(membership, entry);
  }
  const restored: RestoredState = {
    hardState,
    membership: snap?.membership ?? options.membership ?? EMPTY_MEMBERSHIP,
    snapshot: snap,
    log,
    applied,
  };
  return { restored, applied, appliedTerm, appliedMembership: membership };
}
