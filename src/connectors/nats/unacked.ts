/**
 * The messages delivered and not yet acknowledged: each one's stream sequence and the bytes of its ack subject, in
 * arrays that grow and are reused, not a string and an array slot per message kept until the checkpoint (a run holds
 * a second's worth: ~100,000 strings promoted to the old generation and collected there). A subject is decoded only
 * for the message an ack goes to.
 */
export class Unacked {
  private seqs = new Float64Array(1024);
  /** Where each message's subject ends in `bytes`; it starts where the one before it ends. */
  private ends = new Int32Array(1024);
  private bytes = new Uint8Array(64 * 1024);
  private head = 0;
  private tail = 0;
  private readonly decoder = new TextDecoder();

  /** Messages delivered and not yet acknowledged. */
  get size(): number {
    return this.tail - this.head;
  }

  push(seq: number, subject: Uint8Array): void {
    let start = this.tail === 0 ? 0 : this.ends[this.tail - 1]!;
    if (this.tail === this.seqs.length || start + subject.length > this.bytes.length) {
      this.compact(subject.length);
      start = this.tail === 0 ? 0 : this.ends[this.tail - 1]!;
    }
    this.bytes.set(subject, start);
    this.seqs[this.tail] = seq;
    this.ends[this.tail] = start + subject.length;
    this.tail++;
  }

  /**
   * Takes every message up to stream sequence `upTo` off, and returns the last one's sequence and ack subject (the
   * cumulative ack covers the others), or undefined when none is that old.
   */
  takeUpTo(upTo: number): { seq: number; subject: string } | undefined {
    let end = this.head;
    while (end < this.tail && this.seqs[end]! <= upTo) end++;
    if (end === this.head) return undefined;
    const last = end - 1;
    const start = last === 0 ? 0 : this.ends[last - 1]!;
    const taken = { seq: this.seqs[last]!, subject: this.decoder.decode(this.bytes.subarray(start, this.ends[last]!)) };
    this.head = end;
    return taken;
  }

  clear(): void {
    this.head = 0;
    this.tail = 0;
  }

  /** Moves what is left to the front, into arrays twice as large when it fills half of them (`more`: bytes to come). */
  private compact(more: number): void {
    const from = this.head === 0 ? 0 : this.ends[this.head - 1]!;
    const used = (this.tail === 0 ? 0 : this.ends[this.tail - 1]!) - from;
    const count = this.tail - this.head;
    let seqs = this.seqs;
    let ends = this.ends;
    if ((count + 1) * 2 > seqs.length) {
      seqs = new Float64Array(seqs.length * 2);
      ends = new Int32Array(seqs.length);
    }
    seqs.set(this.seqs.subarray(this.head, this.tail));
    for (let i = 0; i < count; i++) ends[i] = this.ends[this.head + i]! - from;
    let length = this.bytes.length;
    while ((used + more) * 2 > length) length *= 2;
    const bytes = length === this.bytes.length ? this.bytes : new Uint8Array(length);
    if (bytes === this.bytes) bytes.copyWithin(0, from, from + used);
    else bytes.set(this.bytes.subarray(from, from + used));
    this.seqs = seqs;
    this.ends = ends;
    this.bytes = bytes;
    this.head = 0;
    this.tail = count;
  }
}
