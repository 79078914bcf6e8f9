import { Type } from '@sinclair/typebox';
import { WireError } from '../core/errors.js';
import type { Batch, Position, WireRecord } from '../core/record.js';

/** A checkpointed position of a source that counts its messages: a count, or nothing before the first checkpoint. */
export function messageCounterOf(type: string, position: Position | undefined): number {
  if (position === undefined || position === null) return 0;
  if (typeof position === 'number' && Number.isSafeInteger(position) && position >= 0) return position;
  throw new WireError('INVALID_INPUT', `${type} source: checkpoint position ${JSON.stringify(position)} is not a message count`);
}

/** The `stop_after` setting of a source of a broker's messages: a finite run. */
export const stopAfterField = {
  stop_after: Type.Optional(
    Type.Integer({
      minimum: 1,
      description:
        'End the run once this many messages are read (like `mosquitto_sub -C`): they are acknowledged by the run\'s last checkpoint, and what the broker sent beyond them is left unacknowledged, so it stays queued. By default the run never ends.',
    }),
  ),
};

/**
 * The messages a broker pushed to a source (RabbitMQ, MQTT) and not yet acknowledged to it, in delivery order:
 * first those the engine has not read (`buffered`), then those it read and a checkpoint does not cover yet
 * (`pending`). Positions count messages read, across runs (a run starts after its checkpoint's count). Each
 * message remembers the connection (`generation`) it came on: one lost takes its unread messages with it (the
 * broker delivers them again), and read ones of it can no longer be acknowledged.
 */
export class MessageWindow<M> {
  private buffered: M[] = [];
  private bufferedGenerations: number[] = [];
  private bufferedHead = 0;
  private pending: M[] = [];
  private pendingGenerations: number[] = [];
  private pendingHead = 0;
  /** The position of `pending[pendingHead]`. */
  private firstPending = 1;
  private wakeReader: (() => void) | undefined;

  /** Positions continue after `count` (the checkpoint's). */
  startAfter(count: number): void {
    this.firstPending = count + 1;
  }

  deliver(message: M, generation: number): void {
    this.buffered.push(message);
    this.bufferedGenerations.push(generation);
    this.wake();
  }

  /** Messages delivered and not acknowledged: what the broker counts against its prefetch. */
  get unsettled(): number {
    return this.buffered.length - this.bufferedHead + this.pending.length - this.pendingHead;
  }

  /** Up to `max` unread messages, now read, with the position of the first; undefined when none is buffered. */
  take(max: number): { readonly messages: M[]; readonly firstPosition: number } | undefined {
    const available = this.buffered.length - this.bufferedHead;
    if (available === 0) return undefined;
    const end = this.bufferedHead + Math.min(max, available);
    const messages = this.buffered.slice(this.bufferedHead, end);
    const firstPosition = this.firstPending + this.pending.length - this.pendingHead;
    for (let i = this.bufferedHead; i < end; i++) {
      this.pending.push(this.buffered[i]!);
      this.pendingGenerations.push(this.bufferedGenerations[i]!);
    }
    this.bufferedHead = end;
    if (this.bufferedHead === this.buffered.length) {
      this.buffered = [];
      this.bufferedGenerations = [];
      this.bufferedHead = 0;
    }
    return { messages, firstPosition };
  }

  /**
   * Read messages up to `position` are settled: returns those that came on connection `generation` (the live one),
   * in order, for the caller to acknowledge; the others came on a lost connection and will come again.
   */
  settle(position: number, generation: number | undefined): M[] {
    const settled: M[] = [];
    while (this.pendingHead < this.pending.length && this.firstPending <= position) {
      if (this.pendingGenerations[this.pendingHead] === generation) settled.push(this.pending[this.pendingHead]!);
      this.pendingHead++;
      this.firstPending++;
    }
    if (this.pendingHead > 4096 && this.pendingHead * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.pendingHead);
      this.pendingGenerations = this.pendingGenerations.slice(this.pendingHead);
      this.pendingHead = 0;
    }
    return settled;
  }

  /** Connection `generation` is lost: its unread messages are dropped (the broker delivers them again). */
  drop(generation: number): void {
    const keep: M[] = [];
    const keepGenerations: number[] = [];
    for (let i = this.bufferedHead; i < this.buffered.length; i++) {
      if (this.bufferedGenerations[i] === generation) continue;
      keep.push(this.buffered[i]!);
      keepGenerations.push(this.bufferedGenerations[i]!);
    }
    this.buffered = keep;
    this.bufferedGenerations = keepGenerations;
    this.bufferedHead = 0;
    this.wake();
  }

  /**
   * The records of the messages as they come, `max` at most per batch, until `signal` aborts or `limit` messages
   * are read; throws the link's failure as soon as it has one. What a source of this window's messages yields from `read`.
   */
  async *batches(
    max: number,
    signal: AbortSignal,
    failure: () => WireError | undefined,
    recordOf: (message: M, position: number) => WireRecord,
    limit = Infinity,
  ): AsyncIterable<Batch> {
    const count = Math.max(1, Math.floor(max));
    let left = limit;
    while (!signal.aborted && left > 0) {
      const failed = failure();
      if (failed !== undefined) throw failed;
      const taken = this.take(Math.min(count, left));
      if (taken === undefined) {
        await this.waitForMore();
        continue;
      }
      const batch = new Array<WireRecord>(taken.messages.length);
      for (let i = 0; i < batch.length; i++) batch[i] = recordOf(taken.messages[i]!, taken.firstPosition + i);
      left -= batch.length;
      yield batch;
    }
  }

  /** Resolves on the next delivery, drop or `wake`. */
  waitForMore(): Promise<void> {
    return new Promise((resolve) => (this.wakeReader = resolve));
  }

  wake(): void {
    const wake = this.wakeReader;
    this.wakeReader = undefined;
    wake?.();
  }
}
