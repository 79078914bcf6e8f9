/**
 * An in-memory log for tests of the pure core: entries from a compaction point on, the core's
 * `LogReader`, written by the test's own driver.
 */
import type { Entry, LogReader } from '../../../src/raft/core/types.js';

export class MemoryLog implements LogReader {
  /** Index and term of the last entry compacted away (0, 0 for a fresh log). */
  private compactIndex = 0;
  private compactTerm = 0;
  private log: Entry[] = [];

  firstIndex(): number {
    return this.compactIndex + 1;
  }

  lastIndex(): number {
    return this.compactIndex + this.log.length;
  }

  term(index: number): number | undefined {
    if (index === this.compactIndex) return this.compactTerm;
    if (index < this.compactIndex || index > this.lastIndex()) return undefined;
    return this.log[index - this.compactIndex - 1]!.term;
  }

  entries(lo: number, hi: number, maxBytes = Number.MAX_SAFE_INTEGER): Entry[] {
    if (lo < this.firstIndex() || hi > this.lastIndex() + 1) {
      throw new Error(`entries [${lo}, ${hi}) outside the log [${this.firstIndex()}, ${this.lastIndex()}]`);
    }
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.log[i - this.compactIndex - 1]!;
      if (out.length > 0 && bytes + e.data.byteLength > maxBytes) break;
      out.push(e);
      bytes += e.data.byteLength;
    }
    return out;
  }

  /** Appends, first deleting every entry at or after the first new one. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    if (first <= this.compactIndex || first > this.lastIndex() + 1) {
      throw new Error(`append at ${first} does not fit the log [${this.firstIndex()}, ${this.lastIndex()}]`);
    }
    this.log.length = first - this.compactIndex - 1;
    this.log.push(...entries);
  }

  /** Drops entries up to and including `index`. */
  compact(index: number): void {
    if (index <= this.compactIndex) return;
    const term = this.term(index);
    if (term === undefined) throw new Error(`compact at ${index} beyond the log ${this.lastIndex()}`);
    this.log = this.log.slice(index - this.compactIndex);
    this.compactIndex = index;
    this.compactTerm = term;
  }

  /** Replaces the whole log by a compaction point (a snapshot was installed). */
  reset(index: number, term: number): void {
    this.log = [];
    this.compactIndex = index;
    this.compactTerm = term;
  }
}
