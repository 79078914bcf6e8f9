import { WireError } from '../core/errors.js';

/** Time as the engine sees it; tests pass a virtual one so backoff and rate limits need no real waiting. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects with UNAVAILABLE when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** `performance.now()` would load Node's perf_hooks modules (~1 ms) in every run; `hrtime` is built in. */
const origin = process.hrtime.bigint();

export const systemClock: Clock = {
  now: () => Number(process.hrtime.bigint() - origin) / 1e6,
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(aborted());
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(aborted());
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export function aborted(): WireError {
  return new WireError('UNAVAILABLE', 'the pipeline was stopped', { aborted: true });
}

export function isAborted(error: unknown): boolean {
  return error instanceof WireError && error.details.aborted === true;
}
