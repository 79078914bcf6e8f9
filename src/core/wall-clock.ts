/**
 * The time of day as pipelines see it (`now()` in expressions), in ms since the epoch. `wire test` fixes it so a
 * test's expected output holds whenever it runs; everything else reads the system clock.
 */
// Date.now is looked up at each call: a test may replace the global Date (fake timers).
const systemNow = (): number => Date.now();
let read: () => number = systemNow;

export function wallClockNow(): number {
  return read();
}

/** Fixes the wall clock at `ms` (ms since the epoch) for this thread, or gives it back to the system with `undefined`. */
export function fixWallClock(ms: number | undefined): void {
  read = ms === undefined ? systemNow : () => ms;
}
