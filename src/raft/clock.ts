/**
 * The driver's time and timers, a port: the process's by default, simulated ones under `test/sim`.
 */

/** A timer started by a `Clock`: only that clock can clear it. */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds from a monotonic origin; only differences are used (leases, deadlines). */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(timer: TimerHandle): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(timer: TimerHandle): void;
  /** Runs `fn` once the current turn's callbacks are done (`setImmediate`). */
  setImmediate(fn: () => void): void;
}

/** The process's monotonic clock and timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (timer) => clearInterval(timer as NodeJS.Timeout),
  setImmediate: (fn) => void setImmediate(fn),
};
