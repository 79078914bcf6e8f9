import { RecordsRefused, WireError, errorMessage } from '../core/errors.js';
import type { RetrySpec } from '../core/pipeline.js';
import type { Checkpoint, CheckpointIdentity, CheckpointStore, Sink, Source } from '../core/ports.js';
import type { Position } from '../core/record.js';
import type { Logger } from '../observability/logger.js';
import type { ComponentCounters } from '../observability/metrics.js';
import type { AckTracker } from './ack-tracker.js';
import type { Clock } from './clock.js';
import { RetryExhausted, withRetry } from './retry.js';

export interface CheckpointerOptions {
  readonly key: string;
  readonly store: CheckpointStore;
  /** Saved with every checkpoint: what its position and states belong to. */
  readonly identity: CheckpointIdentity;
  readonly source: Source;
  readonly sink: Sink;
  readonly deadLetter: Sink | undefined;
  readonly tracker: AckTracker;
  readonly everyRecords: number;
  readonly everyMs: number;
  readonly retry: RetrySpec;
  readonly clock: Clock;
  readonly random: () => number;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  readonly sourceCounters: ComponentCounters;
  readonly observeLatency: (seconds: number) => void;
  /** Where records go that the sink refused for good while flushing (see RecordsRefused). */
  readonly refused: (error: RecordsRefused) => Promise<void>;
}

/**
 * Makes the completed prefix durable: flush the sinks, take their states, save `{position, sink}` and only
 * then ack the source. Always called inside the runner's serial section, so no write runs during a flush and
 * the sinks' states describe exactly what was written.
 */
export class Checkpointer {
  private recordsSince = 0;
  private lastAt: number;
  private lastSeq = -1;
  private saved: { position: Position } | undefined;
  /** While set, a checkpoint waits for the sinks to hold exactly a prefix: parts of later batches are held back. */
  private barrier: number | undefined;
  private wakeHeld: (() => void) | undefined;
  private held: Promise<void> | undefined;
  /** Saves and acks started by `commitBehind` and not yet done, chained so they happen in order. */
  private saving: Promise<void> = Promise.resolve();
  private savesPending = 0;

  constructor(private readonly o: CheckpointerOptions) {
    this.lastAt = o.clock.now();
  }

  /** The last position this run saved. */
  get savedPosition(): { position: Position } | undefined {
    return this.saved;
  }

  /**
   * A fresh run's first save, before anything is written: no position yet (`null`) and the sinks' starting
   * states. Without it a crash before the first checkpoint would reopen an `append: true` file at its new
   * length and keep the lost run's records, which the rerun then writes again.
   */
  async opening(): Promise<void> {
    const o = this.o;
    const sink = o.sink.checkpoint?.();
    const deadLetter = o.deadLetter?.checkpoint?.();
    if (sink === undefined && deadLetter === undefined) return;
    const checkpoint: Checkpoint = { position: null, sink, deadLetter, identity: o.identity, updatedAt: Date.now() };
    await this.durably('checkpoint save', () => o.store.save(o.key, checkpoint));
  }

  /** Counts records read; a checkpoint becomes due after `everyRecords`. */
  read(count: number): void {
    this.recordsSince += count;
  }

  /**
   * True when the part of batch `seq` must wait before it is written: a checkpoint is waiting for the sinks to
   * hold exactly the batches up to the barrier, and this batch is past it. Each lane takes its parts in source
   * order, so no part up to the barrier ever waits behind a held one.
   */
  holds(seq: number): boolean {
    return this.barrier !== undefined && seq > this.barrier;
  }

  /** Resolves once held parts may be written (the checkpoint was saved, or the run halts). */
  whenReleased(): Promise<void> {
    if (this.barrier === undefined) return Promise.resolve();
    return (this.held ??= new Promise<void>((resolve) => (this.wakeHeld = resolve)));
  }

  /** Lets held parts go. */
  release(): void {
    this.barrier = undefined;
    const wake = this.wakeHeld;
    this.wakeHeld = undefined;
    this.held = undefined;
    wake?.();
  }

  /**
   * Checkpoints when due (or when `force`). A checkpoint pairs the ackable position with the sinks' states, so
   * it is saved only when the sinks hold exactly the records up to that position: with lanes, a later batch (or
   * one lane's share of a split batch) may already be written. Then the parts past the highest batch written so
   * far wait (`holds`) until every batch up to it is complete, and the checkpoint is saved at that moment, which
   * makes a file sink's truncate-on-restart exactly-once for any number of lanes.
   */
  async maybe(force: boolean): Promise<void> {
    const save = await this.flushAndCapture(force);
    if (save !== undefined) await this.chainSave(save);
    else if (this.savesPending > 0) await this.saving;
  }

  /**
   * A forced checkpoint whose save and ack run behind the caller: resolves once the sinks are flushed and their
   * states taken, with the promise of the save and ack (wrapped, so awaiting this does not wait for it). A
   * group commit uses it so that writes go on while the checkpoint store syncs; saves still happen one after
   * another, each after the flush it describes, and the source is acked only once its position is saved.
   */
  async commitBehind(): Promise<{ readonly saved: Promise<void> }> {
    const save = await this.flushAndCapture(true);
    return { saved: save === undefined ? this.saving : this.chainSave(save) };
  }

  private chainSave(save: () => Promise<void>): Promise<void> {
    this.savesPending++;
    const done = this.saving.then(save).finally(() => this.savesPending--);
    // Whoever started it sees a failure; the chain must not report it again as unhandled.
    done.catch(() => undefined);
    this.saving = done;
    return done;
  }

  /** Flushes the sinks when due; returns how to save and ack what they now hold (undefined: nothing to save). */
  private async flushAndCapture(force: boolean): Promise<(() => Promise<void>) | undefined> {
    const o = this.o;
    const now = o.clock.now();
    if (!force && this.barrier === undefined) {
      const due = this.recordsSince >= o.everyRecords || now - this.lastAt >= o.everyMs;
      if (!due) return undefined;
    }
    if (!o.tracker.exact) {
      this.barrier ??= o.tracker.highestWrittenSeq;
      return undefined;
    }
    this.release();
    const through = o.tracker.completedThrough;
    const ack = o.tracker.ackablePosition();
    this.recordsSince = 0;
    this.lastAt = now;
    if (through === this.lastSeq) return undefined;
    await this.flushSink();
    if (o.deadLetter !== undefined) await this.durably('dead-letter flush', () => o.deadLetter!.flush());
    const readTimes = o.tracker.takeDurable();
    const done = o.clock.now();
    for (const readAt of readTimes) o.observeLatency((done - readAt) / 1000);
    this.lastSeq = through;
    if (ack === undefined) return undefined;
    const checkpoint: Checkpoint = {
      position: o.source.checkpointPosition?.(ack.position) ?? ack.position,
      sink: o.sink.checkpoint?.(),
      deadLetter: o.deadLetter?.checkpoint?.(),
      identity: o.identity,
      updatedAt: Date.now(),
    };
    return () => this.saveAndAck(checkpoint, ack);
  }

  private async saveAndAck(checkpoint: Checkpoint, ack: { position: Position }): Promise<void> {
    const o = this.o;
    await this.durably('checkpoint save', () => o.store.save(o.key, checkpoint));
    this.saved = ack;
    try {
      await o.source.ack(ack.position);
    } catch (error) {
      // The checkpoint is saved and is what a restart resumes from; a failed upstream commit only delays it.
      o.sourceCounters.errors(1);
      o.logger.warn({ err: error, position: ack.position }, 'source ack failed');
    }
  }

  /**
   * Flushes the sink, handing over what it refuses for good (each refusal leaves fewer records, so this ends).
   * The hand-over is outside the retry: under `on_error: fail` it throws, and that must fail the run.
   */
  private async flushSink(): Promise<void> {
    for (;;) {
      try {
        await this.durably('flush', () => this.o.sink.flush());
        return;
      } catch (error) {
        const refused = (error as Error).cause;
        if (!(refused instanceof RecordsRefused)) throw error;
        await this.o.refused(refused);
      }
    }
  }

  private async durably(what: string, operation: () => Promise<void>): Promise<void> {
    const o = this.o;
    try {
      await withRetry(operation, o.retry, {
        clock: o.clock,
        random: o.random,
        signal: o.signal,
        onFailure: (error, attempt) => o.logger.warn({ err: error, attempt }, `${what} failed`),
      });
    } catch (error) {
      if (!(error instanceof RetryExhausted)) throw error;
      throw new WireError(
        'UNAVAILABLE',
        `${what} failed after ${error.attempts} attempt(s): ${errorMessage(error.lastError)}`,
        { attempts: error.attempts },
        error.lastError,
      );
    }
  }
}
