import { WireError } from '../core/errors.js';
import type { Clock } from './clock.js';

/**
 * A token bucket refilled at `rate` tokens/s, holding at most `burst`. A batch takes as many tokens as it
 * has records; a batch larger than what is left puts the bucket in debt and waits it out, so the long-run
 * rate is honoured whatever the batch size, with one wait per batch at most.
 */
export class RateLimiter {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    if (!(rate > 0) || !Number.isFinite(rate)) {
      throw new WireError('INVALID_INPUT', `rate_limit must be a positive number, got ${rate}`);
    }
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Resolves once `count` records may pass; rejects if the signal aborts while waiting. */
  async take(count: number, signal?: AbortSignal): Promise<void> {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    this.tokens -= count;
    if (this.tokens < 0) await this.clock.sleep((-this.tokens * 1000) / this.rate, signal);
  }
}
