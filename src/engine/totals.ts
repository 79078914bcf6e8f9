import type { RunCounts } from './options.js';

/**
 * The run's counters, bumped once per batch. Records the sinks have taken wait in `sinkPending` and
 * `deadLetterPending` until a flush that covers them is durable (`take…Pending` as it starts, `confirm…` once it
 * succeeded): only then do they count as out or dead-lettered. Everything read is somewhere: out, dead-lettered,
 * dropped, filtered, or still unconfirmed.
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

  /** A flush of the sink starts: what it has taken so far waits for that flush. Returns how many that is. */
  takeSinkPending(): number {
    const n = this.sinkPending;
    this.sinkPending = 0;
    return n;
  }

  /** That flush succeeded: the `n` records it covered are out. Returns `n`. */
  confirmSink(n: number): number {
    this.recordsOut += n;
    return n;
  }

  takeDeadLetterPending(): number {
    const n = this.deadLetterPending;
    this.deadLetterPending = 0;
    return n;
  }

  confirmDeadLetter(n: number): number {
    this.deadLettered += n;
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
