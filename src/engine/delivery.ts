import { RecordsRefused, WireError, errorMessage } from '../core/errors.js';
import type { OnError, RetrySpec } from '../core/pipeline.js';
import type { RecordOutcome, Sink, SourceLocation } from '../core/ports.js';
import { recordsOf, type LineFormat } from '../core/line-block.js';
import type { Batch, Position, WireRecord } from '../core/record.js';
import type { Logger } from '../observability/logger.js';
import type { ComponentCounters } from '../observability/metrics.js';
import type { Clock } from './clock.js';
import { deadLetterRecord, type LetterContext } from './dead-letter.js';
import { SINK_STAGE, SOURCE_STAGE, stageName } from './record-checks.js';
import { RetryExhausted, isFatal, withRetry } from './retry.js';
import type { RunTotals } from './totals.js';
import type { Rejected } from './transform-chain.js';

export interface DeliveryOptions {
  readonly sink: Sink;
  readonly deadLetter: Sink | undefined;
  readonly onError: OnError;
  readonly retry: RetrySpec;
  readonly clock: Clock;
  readonly random: () => number;
  /** Aborted when the pipeline fails or is killed: backoffs end at once. */
  readonly signal: AbortSignal;
  readonly totals: RunTotals;
  readonly sinkCounters: ComponentCounters;
  readonly deadLetterCounters: ComponentCounters | undefined;
  readonly sourceCounters: ComponentCounters;
  readonly stageCounters: readonly ComponentCounters[];
  readonly logger: Logger;
  /** The pipeline's name, for dead letters. */
  readonly pipeline: string;
  /** Where records are in the source, for dead letters (`Source.locate`). */
  readonly locate?: (positions: readonly (Position | undefined)[]) => Promise<(SourceLocation | undefined)[]>;
  /** Told where records went, for a source that answers its callers per record (`Source.outcome`). */
  readonly outcome?: (records: readonly WireRecord[], outcome: RecordOutcome, previous?: 'accepted') => void;
}

/**
 * Puts records where they belong: the sink, else (per `on_error`) the dead-letter sink, a counted drop,
 * or a failure of the pipeline. A method that returns has placed every record it was given; one that
 * throws a WireError means the pipeline must fail without acknowledging those records.
 */
export class Delivery {
  constructor(private readonly options: DeliveryOptions) {}

  async write(records: Batch): Promise<void> {
    await this.place(records.length, () => this.options.sink.write(records), () => records, records);
  }

  /**
   * Writes `count` records already rendered as lines of the sink's format. Should the sink give up, the
   * lines are read back as records (without keys or headers: lines do not carry them) for `on_error`.
   */
  async writeLines(chunks: readonly Uint8Array[], count: number, format: LineFormat): Promise<void> {
    const sink = this.options.sink;
    const records = (): Batch => chunks.flatMap((data) => recordsOf({ data, position: null, format }));
    await this.place(count, () => sink.writeLines!(chunks, count), records);
  }

  /** `accepted`: the records to report to the source once the sink takes them (none for rendered lines). */
  private async place(count: number, attempt: () => Promise<void>, records: () => Batch, accepted?: Batch): Promise<void> {
    const o = this.options;
    o.sinkCounters.received(count);
    try {
      await withRetry(attempt, o.retry, {
        clock: o.clock,
        random: o.random,
        signal: o.signal,
        onFailure: (error, n, retrying) => {
          o.sinkCounters.errors(1);
          o.totals.errors++;
          o.logger[retrying ? 'warn' : 'debug']({ err: error, attempt: n, records: count }, `sink write failed${retrying ? '; retrying' : ''}`);
        },
      });
    } catch (error) {
      if (!(error instanceof RetryExhausted)) throw error;
      const refused = error.lastError;
      if (isFatal(refused)) throw refused;
      if (!(refused instanceof RecordsRefused)) {
        await this.sinkGaveUp(records(), error);
        return;
      }
      // The sink took this batch; what it refused are records of earlier batches, taken and not yet confirmed.
      o.totals.sinkPending += count;
      if (accepted !== undefined) o.outcome?.(accepted, 'accepted');
      await this.refused(refused, error.attempts);
      return;
    }
    // Out once a flush confirms it (see Checkpointer).
    o.totals.sinkPending += count;
    if (accepted !== undefined) o.outcome?.(accepted, 'accepted');
  }

  /** Records the sink gave back as refused for good (from a write or a flush): they go where `on_error` says. */
  async refused(error: RecordsRefused, attempts = 1): Promise<void> {
    this.options.totals.sinkPending -= error.records.length;
    await this.sinkGaveUp(error.records, new RetryExhausted(error.reason, Math.max(attempts, error.attempts)), 'accepted');
  }

  private async sinkGaveUp(records: readonly WireRecord[], failure: RetryExhausted, previous?: 'accepted'): Promise<void> {
    const o = this.options;
    const reason = `sink write failed after ${failure.attempts} attempt(s): ${errorMessage(failure.lastError)}`;
    if (o.onError === 'drop') {
      o.sinkCounters.dropped(records.length);
      o.totals.dropped += records.length;
      o.logger.warn({ records: records.length }, `${reason}; dropped (on_error: drop)`);
      o.outcome?.(records, 'dropped', previous);
      return;
    }
    if (o.onError === 'dead_letter' && o.deadLetter !== undefined) {
      const now = Date.now();
      const contexts = await this.contexts(records);
      await this.toDeadLetter(records.map((r, i) => deadLetterRecord(r, failure.lastError, 'sink', failure.attempts, now, contexts[i]!)));
      o.sinkCounters.deadLettered(records.length);
      o.outcome?.(records, 'dead_lettered', previous);
      return;
    }
    // The sink's own code decides the exit: refused credentials, a bad record, a timeout are not "unavailable".
    const code = failure.lastError instanceof WireError ? failure.lastError.code : 'UNAVAILABLE';
    throw new WireError(code, reason, { component: 'sink', attempts: failure.attempts }, failure.lastError);
  }

  /**
   * Records a stage rejected (the source: unreadable; a transform; the sink: its value cannot be written): dead-letter
   * sink, or dropped under `on_error: drop`, or the pipeline fails.
   */
  async reject(rejected: readonly Rejected[]): Promise<void> {
    const o = this.options;
    // The chain counts its own stages' errors; the source's and the sink's are counted here.
    for (const r of rejected) {
      if (r.stage >= 0) continue;
      this.countersOf(r.stage)?.errors(1);
      o.totals.errors++;
    }
    if (o.deadLetter === undefined) {
      if (o.onError !== 'drop') {
        const first = rejected[0]!;
        const stage = stageName(first.stage);
        throw new WireError(
          'INVALID_INPUT',
          `${stage} rejected a record and no dead_letter sink is configured: ${errorMessage(first.error)}`,
          { component: stage },
          first.error,
        );
      }
      for (const r of rejected) this.countersOf(r.stage)?.dropped(1);
      o.totals.dropped += rejected.length;
      o.outcome?.(rejected.map((r) => r.record), 'dropped');
      return;
    }
    const now = Date.now();
    const contexts = await this.contexts(rejected.map((r) => r.record));
    const letters = rejected.map((r, i) => deadLetterRecord(r.record, r.error, stageName(r.stage), 1, now, contexts[i]!));
    await this.toDeadLetter(letters);
    for (const r of rejected) this.countersOf(r.stage)?.deadLettered(1);
    o.outcome?.(rejected.map((r) => r.record), 'dead_lettered');
  }

  /**
   * What each record's dead letter says of where it was: the pipeline, and the source's word for where the record
   * is, else its position. A source that cannot say (its file is gone) costs the letters that, not the records.
   */
  private async contexts(records: readonly WireRecord[]): Promise<LetterContext[]> {
    const o = this.options;
    const positions = records.map((r) => r.position);
    let located: (SourceLocation | undefined)[] = [];
    if (o.locate !== undefined) {
      try {
        located = await o.locate(positions);
      } catch (error) {
        o.logger.warn({ err: error, records: records.length }, 'could not locate dead-lettered records in the source; their letters give positions');
      }
    }
    return positions.map((position, i) => {
      const source = located[i] ?? (position === undefined || position === null ? undefined : { position });
      return source === undefined ? { pipeline: o.pipeline } : { pipeline: o.pipeline, source };
    });
  }

  private countersOf(stage: number): ComponentCounters | undefined {
    const o = this.options;
    if (stage === SOURCE_STAGE) return o.sourceCounters;
    if (stage === SINK_STAGE) return o.sinkCounters;
    return o.stageCounters[stage];
  }

  private async toDeadLetter(letters: Batch): Promise<void> {
    const o = this.options;
    const deadLetter = o.deadLetter!;
    o.deadLetterCounters?.received(letters.length);
    try {
      await withRetry(() => deadLetter.write(letters), o.retry, {
        clock: o.clock,
        random: o.random,
        signal: o.signal,
        onFailure: (error, attempt, retrying) => {
          o.deadLetterCounters?.errors(1);
          o.totals.errors++;
          const message = `dead-letter write failed${retrying ? '; retrying' : ''}`;
          o.logger[retrying ? 'warn' : 'debug']({ err: error, attempt, records: letters.length }, message);
        },
      });
    } catch (error) {
      if (!(error instanceof RetryExhausted)) throw error;
      throw new WireError(
        'UNAVAILABLE',
        `dead-letter sink failed after ${error.attempts} attempt(s): ${errorMessage(error.lastError)}`,
        { component: 'dead_letter', attempts: error.attempts },
        error.lastError,
      );
    }
    o.totals.deadLetterPending += letters.length;
  }
}
