import { aborted, type Clock } from '../engine/clock.js';

/**
 * Time that moves only when the engine waits: a sleep (a rate limit, a retry's backoff) returns at once, its time
 * added, so a test of a rate-limited or retrying pipeline runs as fast as one that is not.
 */
export function virtualClock(): Clock {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw aborted();
      // A turn of the event loop, as a timer would give, so other work goes on meanwhile.
      await new Promise<void>((resolve) => setImmediate(resolve));
      now += ms;
    },
  };
}
