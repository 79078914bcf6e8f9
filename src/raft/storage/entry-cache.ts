/**
 * The in-memory tail of the log: the most recent entries, so the hot path (replication, apply) never
 * decodes from disk. Covers a contiguous range [start, start + length).
 */
import type { Entry } from '../core/types.js';

/** Approximate in-memory size of an entry, for byte limits. */
export function entrySize(entry: Entry): number {
  return entry.data.length + 32;
}

export class EntryCache {
  private items: Entry[] = [];
  private bytes = 0;
  /** Index of items[0]; meaningful when non-empty, and where the next entry goes when empty. */
  private start: number;

  constructor(
    next: number,
    private readonly maxEntries: number,
    private readonly maxBytes: number,
  ) {
    this.start = next;
  }

  get first(): number {
    return this.start;
  }

  get(index: number): Entry | undefined {
    return this.items[index - this.start];
  }

  /** Appends contiguous entries, dropping any cached entries at or after the first new index. */
  append(entries: readonly Entry[]): void {
    const from = entries[0]?.index;
    if (from === undefined) return;
    if (from < this.start || from > this.start + this.items.length) {
      // A truncation before the cached range, or a gap: the new entries start a fresh range.
      this.items = [];
      this.bytes = 0;
      this.start = from;
    } else {
      this.truncateFrom(from);
    }
    for (const e of entries) {
      this.items.push(e);
      this.bytes += entrySize(e);
    }
  }

  /** Drops entries at or after `index`. */
  truncateFrom(index: number): void {
    const keep = Math.max(0, index - this.start);
    for (let i = keep; i < this.items.length; i++) this.bytes -= entrySize(this.items[i] as Entry);
    this.items.length = Math.min(this.items.length, keep);
  }

  /** Drops entries at or before `index`. */
  dropThrough(index: number): void {
    const n = Math.min(this.items.length, index - this.start + 1);
    if (n <= 0) return;
    for (let i = 0; i < n; i++) this.bytes -= entrySize(this.items[i] as Entry);
    this.items.splice(0, n);
    this.start += n;
  }

  /** Forgets everything; the next entry appended is expected at `next`. */
  clear(next: number): void {
    this.items = [];
    this.bytes = 0;
    this.start = next;
  }

  /** Evicts the oldest entries beyond the limits, none after `through` (entries not yet on disk must stay). */
  evict(through: number): void {
    let n = 0;
    let bytes = this.bytes;
    const most = Math.min(this.items.length - 1, through - this.start + 1);
    while (n < most && (this.items.length - n > this.maxEntries || bytes > this.maxBytes)) {
      bytes -= entrySize(this.items[n] as Entry);
      n++;
    }
    if (n > 0) this.dropThrough(this.start + n - 1);
  }
}
