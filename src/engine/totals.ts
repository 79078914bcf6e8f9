import type { RunCounts } from './options.js';

/** The run's counters, bumped once per batch. */
export class RunTotals implements RunCounts {
  recordsIn = 0;
  recordsOut = 0;
  deadLettered = 0;
  dropped = 0;
  filtered = 0;
  errors = 0;

  snapshot(): RunCounts {
    return {
      recordsIn: this.recordsIn,
      recordsOut: this.recordsOut,
      deadLettered: this.deadLettered,
      dropped: this.dropped,
      filtered: this.filtered,
      errors: this.errors,
    };
  }
}
