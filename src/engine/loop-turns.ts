import { systemClock } from './clock.js';

/**
 * How long a run may work before it lets the event loop turn. A source that never waits (generate with a count)
 * feeding a sink that writes synchronously is a chain of promise callbacks that lasts as long as the records do:
 * without a turn no timer or socket of the process is served meanwhile (a cluster node's Raft ticks and lease
 * renewals, which lapse and move the task away; `wire run`'s progress and signals). 10 ms costs ~100 turns a second.
 */
export const LOOP_SLICE_MS = 10;

/** Hands the event loop a turn once a slice of the run's own work is over (real time: it is the loop's time). */
export class LoopTurns {
  private sliceStart = systemClock.now();

  /** Undefined while the slice lasts; else a promise that resolves after one turn of the event loop. */
  due(): Promise<void> | undefined {
    if (systemClock.now() - this.sliceStart < LOOP_SLICE_MS) return undefined;
    return new Promise((resolve) =>
      setImmediate(() => {
        this.sliceStart = systemClock.now();
        resolve();
      }),
    );
  }
}
