import type { Position } from '../core/record.js';
import { WireError } from '../core/errors.js';

/**
 * Numbers source batches and finds the highest contiguous completed one, so acks stay in order
 * whatever order lanes finish in. A batch is complete when all its parts (one per lane it was split
 * into) are in the sink or the dead-letter sink. State lives in ring buffers sized to the in-flight
 * window: nothing grows with the input.
 */
export class AckTracker {
  private readonly remaining: Int32Array;
  private readonly parts: Int32Array;
  private readonly positions: (Position | undefined)[];
  private readonly readAt: Float64Array;
  private nextSeq = 0;
  private contiguous = -1;
  /** Parts written of batches after the contiguous prefix: records in the sinks that no ackable position covers. */
  private partsAhead = 0;
  private highestWritten = -1;
  private ackable: Position | undefined;
  private hasAckable = false;
  /** Read times of batches completed in order since the last `takeDurable` (for the latency histogram). */
  private durable: number[] = [];

  constructor(readonly window: number) {
    if (!Number.isInteger(window) || window < 1) throw new WireError('INTERNAL', `bad in-flight window ${window}`);
    this.remaining = new Int32Array(window);
    this.parts = new Int32Array(window);
    this.positions = new Array<Position | undefined>(window);
    this.readAt = new Float64Array(window);
  }

  /** Source batches read and not yet complete. */
  get inFlight(): number {
    return this.nextSeq - 1 - this.contiguous;
  }

  get full(): boolean {
    return this.inFlight >= this.window;
  }

  /**
   * True when the sinks hold exactly the batches of the contiguous prefix: no part of a later batch is written
   * (a batch completed out of order, or one lane's share of a split batch). Only then do the sinks' states
   * match the ackable position.
   */
  get exact(): boolean {
    return this.partsAhead === 0;
  }

  /** The highest sequence number of which some part is written (-1 for none). */
  get highestWrittenSeq(): number {
    return this.highestWritten;
  }

  /** Registers a batch of `parts` parts ending at `position`; returns its sequence number. */
  begin(position: Position | undefined, parts: number, readAt: number): number {
    if (this.full) throw new WireError('INTERNAL', 'in-flight window exceeded');
    const seq = this.nextSeq++;
    const slot = seq % this.window;
    this.remaining[slot] = parts;
    this.parts[slot] = parts;
    this.positions[slot] = position;
    this.readAt[slot] = readAt;
    if (parts === 0) this.settle(seq);
    return seq;
  }

  /** One part of batch `seq` is done. */
  complete(seq: number): void {
    const slot = seq % this.window;
    if (seq <= this.contiguous || seq >= this.nextSeq || this.remaining[slot]! <= 0) {
      throw new WireError('INTERNAL', `batch ${seq} completed twice or never begun`);
    }
    this.remaining[slot]! -= 1;
    this.partsAhead++;
    if (seq > this.highestWritten) this.highestWritten = seq;
    if (this.remaining[slot] === 0) this.settle(seq);
  }

  private settle(seq: number): void {
    if (seq !== this.contiguous + 1) return;
    this.advance(seq);
    while (this.contiguous + 1 < this.nextSeq && this.remaining[(this.contiguous + 1) % this.window] === 0) {
      this.advance(this.contiguous + 1);
    }
  }

  private advance(seq: number): void {
    const slot = seq % this.window;
    this.contiguous = seq;
    this.partsAhead -= this.parts[slot]!;
    const position = this.positions[slot];
    this.positions[slot] = undefined;
    if (position !== undefined) {
      this.ackable = position;
      this.hasAckable = true;
    }
    this.durable.push(this.readAt[slot]!);
  }

  /** The position up to which everything is complete, if any batch carried one. */
  ackablePosition(): { position: Position } | undefined {
    return this.hasAckable ? { position: this.ackable as Position } : undefined;
  }

  /** The highest contiguous completed sequence number (-1 for none). */
  get completedThrough(): number {
    return this.contiguous;
  }

  /** Read times of batches completed in order since the last call; the caller observes their latency. */
  takeDurable(): number[] {
    const out = this.durable;
    this.durable = [];
    return out;
  }
}
