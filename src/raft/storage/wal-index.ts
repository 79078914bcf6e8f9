/**
 * The log as the write-ahead log holds it: the compaction point, the last index, and for every live
 * entry its term and where its record is (segment, offset, length). Recovery and the writer apply the
 * same operations to it in record order, so a replay rebuilds exactly the index the writer had.
 *
 * Invariants: slots cover (compactIndex, last] contiguously; along the log, an entry's segment never
 * decreases (a rewrite of entry i truncates every entry after it), so the first live entry's segment is
 * the oldest one still needed. An ABSENT slot (only after a replay that starts from a segment whose
 * predecessors were deleted) stands for an entry held by a deleted segment; none may stay live.
 */
import { invariant } from '../core/assert.js';

const ABSENT = -1;

export interface EntryPosition {
  readonly seq: number;
  readonly offset: number;
  readonly length: number;
}

export class WalIndex {
  private snapIndex = 0;
  private snapTerm = 0;
  private seqs: number[] = [];
  private offsets: number[] = [];
  private lengths: number[] = [];
  private terms: number[] = [];

  get compactIndex(): number {
    return this.snapIndex;
  }

  get compactTerm(): number {
    return this.snapTerm;
  }

  get last(): number {
    return this.snapIndex + this.seqs.length;
  }

  /** Term at `index` (the compaction point's too); undefined outside the log or for an absent entry. */
  term(index: number): number | undefined {
    if (index === this.snapIndex) return this.snapTerm;
    const slot = index - this.snapIndex - 1;
    if (slot < 0 || slot >= this.seqs.length || this.seqs[slot] === ABSENT) return undefined;
    return this.terms[slot];
  }

  position(index: number): EntryPosition | undefined {
    const slot = index - this.snapIndex - 1;
    if (slot < 0 || slot >= this.seqs.length || this.seqs[slot] === ABSENT) return undefined;
    return { seq: this.seqs[slot]!, offset: this.offsets[slot]!, length: this.lengths[slot]! };
  }

  /** Records entry `index` at a position, first dropping any entry at or after it. */
  append(index: number, term: number, seq: number, offset: number, length: number): void {
    invariant(index > this.snapIndex && index <= this.last + 1, `WAL entry ${index} outside (${this.snapIndex}, ${this.last + 1}]`);
    this.truncateFrom(index);
    this.seqs.push(seq);
    this.offsets.push(offset);
    this.lengths.push(length);
    this.terms.push(term);
  }

  /** Drops entries up to `index` (< last), which becomes the compaction point. */
  compact(index: number, term: number): void {
    invariant(index > this.snapIndex && index < this.last, `WAL compaction to ${index} outside (${this.snapIndex}, ${this.last})`);
    const n = index - this.snapIndex;
    for (const a of [this.seqs, this.offsets, this.lengths, this.terms]) a.splice(0, n);
    this.snapIndex = index;
    this.snapTerm = term;
  }

  /** An empty log at compaction point (index, term). */
  reset(index: number, term: number): void {
    this.snapIndex = index;
    this.snapTerm = term;
    for (const a of [this.seqs, this.offsets, this.lengths, this.terms]) a.length = 0;
  }

  /** Starts a replay at a segment's base: entries (index, last] live in segments that were deleted. */
  base(index: number, term: number, last: number): void {
    this.reset(index, term);
    for (let i = index; i < last; i++) {
      this.seqs.push(ABSENT);
      this.offsets.push(0);
      this.lengths.push(0);
      this.terms.push(0);
    }
  }

  /** The first live entry held by a deleted segment, if any (a replay must end with none). */
  firstAbsent(): number | undefined {
    const slot = this.seqs.indexOf(ABSENT);
    return slot < 0 ? undefined : this.snapIndex + 1 + slot;
  }

  /** The segment of the first live entry: every older segment holds only compacted entries. */
  firstSeq(): number | undefined {
    return this.seqs[0];
  }

  private truncateFrom(index: number): void {
    const keep = index - this.snapIndex - 1;
    if (keep >= this.seqs.length) return;
    for (const a of [this.seqs, this.offsets, this.lengths, this.terms]) a.length = keep;
  }
}
