/**
 * Raft's safety properties, checked as the simulation runs. Each check throws an
 * InvariantViolation at the first step that breaks it, so the trace ends where the bug shows.
 *  - Election safety: at most one leader per term, over the whole run.
 *  - Log matching: two entries with the same index and term hold the same data, and logs that agree
 *    at an index agree on every entry before it.
 *  - Leader completeness: a leader's log holds every entry known to be committed.
 *  - State machine safety: every node applies the same entry at a given index; snapshots at the same
 *    index hold the same state.
 *  - No acknowledged write lost: every write a client saw succeed stays applied at its index.
 */
import type { Entry, NodeId } from '../../src/raft/core/types.js';
import { crc32c } from '../../src/raft/storage/crc32c.js';
/** What the checks read of a node's log (the production `LogStore` has it). */
export interface LogView {
  firstIndex(): number;
  lastIndex(): number;
  term(index: number): number | undefined;
}

export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
}

function fail(message: string): never {
  throw new InvariantViolation(message);
}

/** A compact identity of an entry's content. */
function fingerprint(e: Entry): string {
  return `${e.type}:${e.data.byteLength}:${crc32c(e.data)}`;
}

export class Invariants {
  private readonly leaders = new Map<number, NodeId>();
  /** "index:term" -> fingerprint of every entry ever persisted anywhere. */
  private readonly entries = new Map<string, string>();
  /** index -> term and fingerprint of the entry applied there (so: committed). */
  private readonly committed = new Map<number, { term: number; fp: string }>();
  private maxCommitted = 0;
  /** Snapshot index -> checksum of its state. */
  private readonly snapshots = new Map<number, number>();
  /** index -> operation id of every write a client saw acknowledged. */
  private readonly acked = new Map<number, string>();
  /** Leaders whose completeness was checked, as "id:term". */
  private readonly checkedLeaders = new Set<string>();
  checks = 0;

  /** Commit index of each leader when it was first seen leading, as "id:term". */
  private readonly commitAtElection = new Map<string, number>();

  leaderSeen(id: NodeId, term: number, commit: number, log: LogView): void {
    this.checks++;
    const other = this.leaders.get(term);
    if (other === undefined) this.leaders.set(term, id);
    else if (other !== id) fail(`election safety: ${other} and ${id} are both leader in term ${term}`);
    const key = `${id}:${term}`;
    const inherited = this.commitAtElection.get(key);
    if (inherited === undefined) {
      this.commitAtElection.set(key, commit);
    } else if (commit > inherited && log.term(commit) !== term) {
      // Figure 8: a leader commits by counting replicas only an entry of its own term.
      fail(`commitment rule: ${id}, leader in term ${term}, advanced its commit to ${commit}, an entry of term ${String(log.term(commit))}`);
    }
  }

  get leaderCount(): number {
    return this.leaders.size;
  }

  persisted(id: NodeId, entries: readonly Entry[]): void {
    for (const e of entries) {
      this.checks++;
      const key = `${e.index}:${e.term}`;
      const fp = fingerprint(e);
      const known = this.entries.get(key);
      if (known === undefined) this.entries.set(key, fp);
      else if (known !== fp) fail(`log matching: ${id} holds a different entry at index ${e.index} term ${e.term}`);
    }
  }

  /** Called with a leader's log before the first Ready of its term leaves the node. */
  leaderLog(id: NodeId, term: number, log: LogView): void {
    const key = `${id}:${term}`;
    if (this.checkedLeaders.has(key)) return;
    this.checkedLeaders.add(key);
    this.checks++;
    if (log.lastIndex() < this.maxCommitted) {
      fail(`leader completeness: ${id} leads term ${term} with log ending at ${log.lastIndex()}, but ${this.maxCommitted} is committed`);
    }
    for (const [index, c] of this.committed) {
      if (index < log.firstIndex()) continue;
      const t = log.term(index);
      if (t !== c.term) fail(`leader completeness: ${id} leads term ${term} with term ${String(t)} at ${index}, committed in term ${c.term}`);
    }
  }

  applied(id: NodeId, e: Entry): void {
    this.checks++;
    const fp = fingerprint(e);
    const known = this.committed.get(e.index);
    if (known === undefined) {
      this.committed.set(e.index, { term: e.term, fp });
      if (e.index > this.maxCommitted) this.maxCommitted = e.index;
    } else if (known.term !== e.term || known.fp !== fp) {
      fail(`state machine safety: ${id} applies term ${e.term} at ${e.index}, another node applied term ${known.term}`);
    }
  }

  snapshot(id: NodeId, index: number, data: Uint8Array): void {
    this.checks++;
    const sum = crc32c(data);
    const known = this.snapshots.get(index);
    if (known === undefined) this.snapshots.set(index, sum);
    else if (known !== sum) fail(`state machine safety: ${id}'s snapshot at ${index} differs from another node's`);
  }

  /** A client saw the write `opId` succeed, applied at `index`. */
  acknowledged(opId: string, index: number): void {
    this.checks++;
    const prior = this.acked.get(index);
    if (prior !== undefined && prior !== opId) fail(`acknowledged writes ${prior} and ${opId} both claim index ${index}`);
    if (!this.committed.has(index)) fail(`write ${opId} acknowledged at ${index} before anything was applied there`);
    this.acked.set(index, opId);
  }

  /** At the end: the cluster's leader has applied every acknowledged write (each was checked when applied). */
  checkAcknowledged(leaderApplied: number): void {
    for (const [index, opId] of this.acked) {
      this.checks++;
      if (index > leaderApplied) fail(`lost write: ${opId} acknowledged at ${index}, the final leader applied only ${leaderApplied}`);
    }
  }

  /** Pairwise: where two logs agree on an entry's term, they agree on every earlier entry both hold. */
  logMatching(logs: readonly { id: NodeId; log: LogView }[]): void {
    for (let a = 0; a < logs.length; a++) {
      for (let b = a + 1; b < logs.length; b++) {
        this.checks++;
        const x = logs[a]!;
        const y = logs[b]!;
        const lo = Math.max(x.log.firstIndex(), y.log.firstIndex());
        let agreed = false;
        for (let i = Math.min(x.log.lastIndex(), y.log.lastIndex()); i >= lo; i--) {
          const same = x.log.term(i) === y.log.term(i);
          if (agreed && !same) fail(`log matching: ${x.id} and ${y.id} agree at a later index but differ at ${i}`);
          if (same) agreed = true;
        }
      }
    }
  }
}
