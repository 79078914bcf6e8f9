import { RecordsRefused, WireError, errorMessage } from '../core/errors.js';
import type { RetrySpec } from '../core/pipeline.js';
import type { Checkpoint, CheckpointIdentity, CheckpointStore, Sink, Source } from '../core/ports.js';
import type { JsonValue, Position } from '../core/record.js';
import type { Logger } from '../observability/logger.js';
import type { ComponentCounters } from '../observability/metrics.js';
import type { AckTracker } from './ack-tracker.js';
import type { Clock } from './clock.js';
import { RetryExhausted, withRetry } from './retry.js';

const noop = (): void => undefined;

/** A flush started: the sinks' states it makes durable, and when they are. */
interface Flushed {
  readonly sink: JsonValue | undefined;
  readonly deadLetter: JsonValue | undefined;
  readonly durable: Promise<void>;
}

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
  /**
   * Called as a flush of the sink (or the dead-letter sink) starts, with its state: takes what that sink has
   * taken so far, and returns what to call once the flush is durable — then, and only then, is it confirmed.
   */
  readonly confirmed: { readonly sink: () => () => void; readonly deadLetter: () => () => void };
}

/**
 * Makes the completed prefix durable: flush the sinks, take their states, save `{position, sink}` and only
 * then ack the source. Always called inside the runner's serial section, so the sinks' states are taken with
 * no write under way and describe exactly what was written; a flush runs on behind the writes that follow
 * only for sinks that say it covers what was written before it (`Sink.flushBehind`).
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
  /** Saves and acks started by `begin` and not yet done, chained so they happen in order. */
  private saving: Promise<void> = Promise.resolve();
  private savesPending = 0;
  /** The flush under way behind the writes, until durable (settles, never rejects: `saved` carries a failure). */
  private flushing: Promise<void> | undefined;

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
   * Checkpoints when due (or when `force`) and resolves once saved. A checkpoint pairs the ackable position with
   * the sinks' states, so it is saved only when the sinks hold exactly the records up to that position: with
   * lanes, a later batch (or one lane's share of a split batch) may already be written. Then the parts past the
   * highest batch written so far wait (`holds`) until every batch up to it is complete, and the checkpoint is
   * saved at that moment, which makes a file sink's truncate-on-restart exactly-once for any number of lanes.
   */
  async maybe(force: boolean): Promise<void> {
    const started = await this.begin(force);
    if (started !== undefined) await started.saved;
    else if (this.savesPending > 0) await this.saving;
  }

  /**
   * Starts a checkpoint when due (or when `force`): resolves once it has started, with the promise of its save
   * and ack (wrapped, so awaiting this does not wait for it), or undefined when none was due. When every sink
   * flushes behind the writes (`Sink.flushBehind`) it starts as soon as their states are taken, and the writes
   * that follow go on while they sync; otherwise the sinks are flushed first. One flush at a time: a checkpoint
   * due while one is under way waits for the next call (forced, it waits here). Saves happen one after another,
   * each once the flush it describes is durable, and the source is acked only once its position is saved.
   */
  async begin(force: boolean): Promise<{ readonly saved: Promise<void> } | undefined> {
    const o = this.o;
    const now = o.clock.now();
    // Before the wait for the save under way: that save, too, is now between the caller and its checkpoint.
    if (force) o.store.hurry?.(o.key);
    if (!force && this.barrier === undefined) {
      const due = this.recordsSince >= o.everyRecords || now - this.lastAt >= o.everyMs;
      if (!due) return undefined;
    }
    if (this.busy) {
      // Parts held back for an exact checkpoint wait for this one: it must not be put off.
      if (!force && this.barrier === undefined) return undefined;
      await this.ready();
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
    // Taken with the sinks' states, before anything else is read or written.
    const stored = ack === undefined ? undefined : { ack, position: o.source.checkpointPosition?.(ack.position) ?? ack.position };
    const flushed = this.flushesBehind ? this.flushBehind() : await this.flushInline();
    this.lastSeq = through;
    const readTimes = o.tracker.takeDurable();
    const durable = flushed.durable.then(() => {
      const done = o.clock.now();
      for (const readAt of readTimes) o.observeLatency((done - readAt) / 1000);
    });
    const settled = durable.then(noop, noop);
    this.flushing = settled;
    void settled.then(() => {
      if (this.flushing === settled) this.flushing = undefined;
    });
    return {
      saved: this.chainSave(async () => {
        await durable;
        if (stored === undefined) return;
        const checkpoint: Checkpoint = {
          position: stored.position,
          sink: flushed.sink,
          deadLetter: flushed.deadLetter,
          identity: o.identity,
          updatedAt: Date.now(),
        };
        await this.saveAndAck(checkpoint, stored.ack);
      }),
    };
  }

  /**
   * Resolves once a checkpoint can start without piling up: no flush under way and at most one save waiting
   * (so a sync of the sink overlaps the save of the checkpoint before it, and no more).
   */
  async ready(): Promise<void> {
    while (this.busy) await (this.flushing ?? this.saving.then(noop, noop));
  }

  private get busy(): boolean {
    return this.flushing !== undefined || this.savesPending > 1;
  }

  /** Whether every sink takes `flushBehind`: a sink that cannot must be flushed with no write running. */
  private get flushesBehind(): boolean {
    const o = this.o;
    return o.sink.flushBehind !== undefined && (o.deadLetter === undefined || o.deadLetter.flushBehind !== undefined);
  }

  /** Starts the sinks' flushes behind the writes, their states taken now. */
  private flushBehind(): Flushed {
    const o = this.o;
    const confirmSink = o.confirmed.sink();
    const confirmDeadLetter = o.deadLetter === undefined ? undefined : o.confirmed.deadLetter();
    const sink = o.sink.flushBehind!();
    const deadLetter = o.deadLetter?.flushBehind!();
    // What each sink took before its state was taken is confirmed once that sink's sync is durable.
    const durable = Promise.all([
      sink.durable.then(confirmSink, (error: unknown) => Promise.reject(failedAfter('flush', 1, error))),
      deadLetter?.durable.then(confirmDeadLetter, (error: unknown) => Promise.reject(failedAfter('dead-letter flush', 1, error))),
    ]);
    return { sink: sink.state, deadLetter: deadLetter?.state, durable: durable.then(noop) };
  }

  /** Flushes the sinks (retried), then takes their states: no write may run meanwhile. */
  private async flushInline(): Promise<Flushed> {
    const o = this.o;
    await this.flushSink();
    o.confirmed.sink()();
    if (o.deadLetter !== undefined) {
      const confirmDeadLetter = o.confirmed.deadLetter();
      await this.durably('dead-letter flush', () => o.deadLetter!.flush());
      confirmDeadLetter();
    }
    return { sink: o.sink.checkpoint?.(), deadLetter: o.deadLetter?.checkpoint?.(), durable: Promise.resolve() };
  }

  private chainSave(save: () => Promise<void>): Promise<void> {
    this.savesPending++;
    const done = this.saving.then(save).finally(() => this.savesPending--);
    // Whoever started it sees a failure; the chain must not report it again as unhandled.
    done.catch(noop);
    this.saving = done;
    return done;
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
        onFailure: (error, attempt, retrying) =>
          o.logger[retrying ? 'warn' : 'debug']({ err: error, attempt }, `${what} failed${retrying ? '; retrying' : ''}`),
      });
    } catch (error) {
      if (!(error instanceof RetryExhausted)) throw error;
      throw failedAfter(what, error.attempts, error.lastError);
    }
  }
}

function failedAfter(what: string, attempts: number, error: unknown): WireError {
  return new WireError('UNAVAILABLE', `${what} failed after ${attempts} attempt(s): ${errorMessage(error)}`, { attempts }, error);
}
