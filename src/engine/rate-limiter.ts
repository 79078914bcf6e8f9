import { WireError } from '../core/errors.js';
import type { Clock } from './clock.js';

/** How much time's worth of records one slice holds: the most a record waits for the rest of its slice. */
const SLICE_MS = 100;

/**
 * Paces records at `rate` per second from the first one: the k-th record after a pause has its turn k / rate
 * seconds after the first, and a slice of records passes at the turn of its last, so by t seconds after the
 * first no more than 1 + rate × t records have passed, whatever the batch sizes. Time the source spends idle
 * is not saved up for a burst. The reader hands batches over in slices of at most `slice` records, so a record
 * waits for its own turn plus at most SLICE_MS, not for a whole batch's.
 */
export class RateLimiter {
  /** The most records one `take` should ask for. */
  readonly slice: number;
  private readonly interval: number;
  /** When the next record's turn comes (clock ms); undefined before the first record. */
  private next: number | undefined;

  constructor(
    rate: number,
    private readonly clock: Clock,
  ) {
    if (!(rate > 0) || !Number.isFinite(rate)) {
      throw new WireError('INVALID_INPUT', `rate_limit must be a positive number, got ${rate}`);
    }
    this.interval = 1000 / rate;
    this.slice = Math.max(1, Math.floor((rate * SLICE_MS) / 1000));
  }

  /** Resolves once `count` records may pass; rejects if the signal aborts while waiting. */
  async take(count: number, signal?: AbortSignal): Promise<void> {
    const now = this.clock.now();
    const first = this.next === undefined || this.next < now ? now : this.next;
    const last = first + (count - 1) * this.interval;
    this.next = last + this.interval;
    if (last > now) await this.clock.sleep(last - now, signal);
  }
}
