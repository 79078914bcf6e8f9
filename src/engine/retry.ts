import { backoffDelay, type RetrySpec } from '../core/pipeline.js';
import { WireError } from '../core/errors.js';
import type { Clock } from './clock.js';

export { backoffDelay };

export interface RetryHooks {
  readonly clock: Clock;
  readonly signal?: AbortSignal;
  /** In [0, 1); injectable so tests are deterministic. */
  readonly random?: () => number;
  /**
   * Told of every failed attempt (for error counters and logs); `retrying` when another attempt follows. The
   * last failure is the caller's to report, once, with what it does about it.
   */
  readonly onFailure?: (error: unknown, attempt: number, retrying: boolean) => void;
}

/** A failure that retrying cannot fix: the thrower said so with `details.retryable === false`. */
export function isRetryable(error: unknown): boolean {
  return !(error instanceof WireError && error.details.retryable === false);
}

/**
 * A failure of the component itself rather than of the records it was given (`details.fatal === true`, e.g. a
 * file sink whose fdatasync failed): the run fails; the records are not handed to `on_error`.
 */
export function isFatal(error: unknown): boolean {
  return error instanceof WireError && error.details.fatal === true;
}

export class RetryExhausted extends Error {
  constructor(
    readonly lastError: unknown,
    readonly attempts: number,
  ) {
    super(lastError instanceof Error ? lastError.message : String(lastError));
    this.name = 'RetryExhausted';
  }
}

/**
 * Runs `operation` up to `spec.maxAttempts` times with exponential backoff and full jitter.
 * Throws RetryExhausted (with the last error and attempt count) when it gives up; an abort of the
 * signal during a backoff propagates as the clock's abort error.
 */
export async function withRetry<T>(operation: () => Promise<T>, spec: RetrySpec, hooks: RetryHooks): Promise<T> {
  const random = hooks.random ?? Math.random;
  const maxAttempts = Math.max(1, spec.maxAttempts);
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      const last = attempt >= maxAttempts || !isRetryable(error) || hooks.signal?.aborted === true;
      hooks.onFailure?.(error, attempt, !last);
      if (last) throw new RetryExhausted(error, attempt);
      await hooks.clock.sleep(backoffDelay(spec, attempt, random), hooks.signal);
    }
  }
}
