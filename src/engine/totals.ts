import type { RunCounts } from './options.js';

/**
 * The run's counters, bumped once per batch. Records the sinks have taken wait in `sinkPending` and
 * `deadLetterPending` until a flush confirms them (`confirmSink`, `confirmDeadLetter`): only then do they count as
 * out or dead-lettered. Everything read is somewhere: out, dead-lettered, dropped, filtered, or still unconfirmed.
 */
export class RunTotals {
  recordsIn = 0;
  recordsOut = 0;
  deadLettered = 0;
  dropped = 0;
  filtered = 0;
  errors = 0;
  /** Taken by the sink (written, maybe buffered), not yet confirmed by a flush. */
  sinkPending = 0;
  /** Taken by the dead-letter sink, not yet confirmed by a flush. */
  deadLetterPending = 0;
  /** Records transforms made beyond those they were given (splits): they too end up somewhere. */
  created = 0;

  /** The sink's flush succeeded: what it had taken is out. Returns how many that was. */
  confirmSink(): number {
    const n = this.sinkPending;
    this.recordsOut += n;
    this.sinkPending = 0;
    return n;
  }

  confirmDeadLetter(): number {
    const n = this.deadLetterPending;
    this.deadLettered += n;
    this.deadLetterPending = 0;
    return n;
  }

  snapshot(): RunCounts {
    const placed = this.recordsOut + this.deadLettered + this.dropped + this.filtered;
    return {
      recordsIn: this.recordsIn,
      recordsOut: this.recordsOut,
      deadLettered: this.deadLettered,
      dropped: this.dropped,
      filtered: this.filtered,
      unconfirmed: this.recordsIn + this.created - placed,
      errors: this.errors,
    };
  }
}
