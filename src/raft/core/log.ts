/**
 * The core's view of the log: the durable part (read through the driver's `LogReader`) plus the
 * unstable tail not yet handed to, or not yet confirmed durable by, the driver — and a snapshot
 * received from the leader but not yet installed. Owns the commit and applied indexes.
 */
import { invariant } from './assert.js';
import type { Entry, LogReader, SnapshotMeta } from './types.js';

export function entryBytes(e: Entry): number {
  return e.data.byteLength;
}

export class RaftLog {
  /** Entries from `offset` on that the driver has not confirmed durable. */
  private unstable: Entry[] = [];
  private offset: number;
  /** A snapshot received from the leader that the driver has not installed yet. */
  private pendingSnapshot: SnapshotMeta | undefined;
  private committed: number;
  private appliedIndex: number;

  constructor(
    private readonly storage: LogReader,
    commit: number,
    applied: number,
  ) {
    this.offset = storage.lastIndex() + 1;
    invariant(applied <= commit, `applied ${applied} beyond commit ${commit}`);
    invariant(commit <= storage.lastIndex(), `commit ${commit} beyond the durable log ${storage.lastIndex()}`);
    invariant(applied >= storage.firstIndex() - 1, `applied ${applied} below the compaction point`);
    this.committed = commit;
    this.appliedIndex = applied;
  }

  get commit(): number {
    return this.committed;
  }

  get applied(): number {
    return this.appliedIndex;
  }

  firstIndex(): number {
    return this.pendingSnapshot !== undefined ? this.pendingSnapshot.index + 1 : this.storage.firstIndex();
  }

  lastIndex(): number {
    if (this.unstable.length > 0) return this.offset + this.unstable.length - 1;
    if (this.pendingSnapshot !== undefined) return this.pendingSnapshot.index;
    return this.storage.lastIndex();
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    invariant(t !== undefined, 'no term for the last index');
    return t;
  }

  /** Term at `index`, or undefined when it is compacted away or beyond the end. */
  term(index: number): number | undefined {
    if (index > this.lastIndex()) return undefined;
    if (index >= this.offset) return this.unstable[index - this.offset]!.term;
    if (this.pendingSnapshot !== undefined) {
      return index === this.pendingSnapshot.index ? this.pendingSnapshot.term : undefined;
    }
    if (index === 0) return 0;
    if (index < this.storage.firstIndex() - 1) return undefined;
    return this.storage.term(index);
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Whether a log ending at (lastIndex, lastTerm) is at least as up-to-date as this one (§5.4.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const myTerm = this.lastTerm();
    return lastTerm > myTerm || (lastTerm === myTerm && lastIndex >= this.lastIndex());
  }

  /** The largest index ≤ `index` whose term is ≤ `term` (the compaction point at worst): fast backtracking. */
  findConflictByTerm(index: number, term: number): number {
    let i = Math.min(index, this.lastIndex());
    const floor = this.firstIndex() - 1;
    while (i > floor) {
      const t = this.term(i);
      if (t === undefined || t <= term) break;
      i--;
    }
    return Math.max(i, floor);
  }

  /**
   * Entries in [lo, hi), at most `maxEntries` and stopping once `maxBytes` is reached (at least one
   * entry). `lo` must be ≥ firstIndex.
   */
  slice(lo: number, hi: number, maxBytes: number, maxEntries: number): Entry[] {
    invariant(lo >= this.firstIndex(), `slice from ${lo} below first index ${this.firstIndex()}`);
    invariant(hi <= this.lastIndex() + 1, `slice to ${hi} beyond last index ${this.lastIndex()}`);
    const end = Math.min(hi, lo + maxEntries);
    const out: Entry[] = [];
    let bytes = 0;
    if (lo < this.offset) {
      const fromStorage = this.storage.entries(lo, Math.min(end, this.offset), maxBytes);
      for (const e of fromStorage) {
        if (out.length > 0 && bytes + entryBytes(e) > maxBytes) return out;
        out.push(e);
        bytes += entryBytes(e);
      }
      if (out.length === 0 || out[out.length - 1]!.index + 1 < Math.min(end, this.offset)) return out;
    }
    for (let i = Math.max(lo, this.offset); i < end; i++) {
      const e = this.unstable[i - this.offset]!;
      if (out.length > 0 && bytes + entryBytes(e) > maxBytes) break;
      out.push(e);
      bytes += entryBytes(e);
    }
    return out;
  }

  entryAt(index: number): Entry {
    const [e] = this.slice(index, index + 1, Number.MAX_SAFE_INTEGER, 1);
    invariant(e !== undefined && e.index === index, `entry ${index} missing`);
    return e;
  }

  /** Appends entries at any index in (commit, lastIndex + 1], replacing the suffix they overwrite. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    for (let i = 0; i < entries.length; i++) {
      invariant(entries[i]!.index === first + i, 'appended entries are not contiguous');
      invariant(i === 0 || entries[i]!.term >= entries[i - 1]!.term, 'appended entries decrease in term');
    }
    invariant(first > this.committed, `append at ${first} would overwrite committed entry (commit ${this.committed})`);
    invariant(first <= this.lastIndex() + 1, `append at ${first} leaves a gap after ${this.lastIndex()}`);
    const prevTerm = this.term(first - 1);
    invariant(prevTerm !== undefined && prevTerm <= entries[0]!.term, 'appended entry term below its predecessor');
    if (first === this.offset + this.unstable.length) {
      this.unstable.push(...entries);
    } else if (first <= this.offset) {
      // Truncates durable entries too: the driver's LogStore.append deletes them when it persists these.
      this.offset = first;
      this.unstable = [...entries];
    } else {
      this.unstable = [...this.unstable.slice(0, first - this.offset), ...entries];
    }
  }

  /**
   * A follower's conditional append: if the log matches at (prevIndex, prevTerm), appends the entries
   * not already present and returns those actually written (starting at the first conflict) and the
   * last index the leader's message covers; otherwise returns null.
   */
  maybeAppend(prevIndex: number, prevTerm: number, entries: readonly Entry[]): { lastNew: number; written: Entry[] } | null {
    if (!this.matchTerm(prevIndex, prevTerm)) return null;
    const lastNew = prevIndex + entries.length;
    let k = 0;
    while (k < entries.length && this.matchTerm(entries[k]!.index, entries[k]!.term)) k++;
    if (k === entries.length) return { lastNew, written: [] };
    const written = entries.slice(k);
    invariant(written[0]!.index > this.committed, 'a leader tried to overwrite a committed entry');
    this.append(written);
    return { lastNew, written };
  }

  commitTo(index: number): void {
    invariant(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    invariant(index >= this.committed, `commit would decrease from ${this.committed} to ${index}`);
    this.committed = index;
  }

  appliedTo(index: number): void {
    invariant(index <= this.committed, `applied ${index} beyond commit ${this.committed}`);
    if (index > this.appliedIndex) this.appliedIndex = index;
  }

  /** Committed entries not yet handed out for applying, up to `maxBytes` (at least one). */
  nextCommitted(maxBytes: number): Entry[] {
    if (this.appliedIndex >= this.committed) return [];
    return this.slice(this.appliedIndex + 1, this.committed + 1, maxBytes, Number.MAX_SAFE_INTEGER);
  }

  hasNextCommitted(): boolean {
    return this.committed > this.appliedIndex;
  }

  /** Installs a leader's snapshot: the whole log is replaced by its compaction point. */
  restore(meta: SnapshotMeta): void {
    invariant(meta.index > this.committed, 'restoring a snapshot that is not newer than the commit index');
    this.pendingSnapshot = meta;
    this.unstable = [];
    this.offset = meta.index + 1;
    this.committed = meta.index;
    this.appliedIndex = meta.index;
  }

  unstableEntries(): readonly Entry[] {
    return this.unstable;
  }

  unstableSnapshot(): SnapshotMeta | undefined {
    return this.pendingSnapshot;
  }

  /** The driver made entries up to (index, term) durable; drops them from the unstable tail if still there. */
  stableTo(index: number, term: number): void {
    if (index < this.offset || !this.matchTerm(index, term)) return;
    this.unstable = this.unstable.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  /** The driver installed the snapshot at `index`. */
  stableSnapshotTo(index: number): void {
    if (this.pendingSnapshot?.index === index) this.pendingSnapshot = undefined;
  }

  /** Last index known durable here: what the leader may count for itself toward a quorum. */
  stableLastIndex(): number {
    if (this.pendingSnapshot !== undefined) return 0;
    return this.unstable.length > 0 ? this.offset - 1 : this.storage.lastIndex();
  }
}
