/**
 * The time of day as pipelines see it (`now()` in expressions), in ms since the epoch. `wire test` fixes it so a
 * test's expected output holds whenever it runs; everything else reads the system clock.
 */
let read: () => number = Date.now;

export function wallClockNow(): number {
  return read();
}

/** Fixes the wall clock at `ms` (ms since the epoch) for this thread, or gives it back to the system with `undefined`. */
export function fixWallClock(ms: number | undefined): void {
  read = ms === undefined ? Date.now : () => ms;
}
