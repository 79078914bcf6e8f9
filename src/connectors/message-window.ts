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

/** Taken slots a queue may keep before it cuts them off (amortised: a cut copies fewer than it drops). */
const COMPACT_AFTER = 4096;

/**
 * Messages in arrival order with the connection each came on, taken from the front. Taken slots are cut off once
 * they are the larger part of the arrays (and past `COMPACT_AFTER`): a queue that never runs dry, because the broker
 * keeps it topped up, must not keep every message it ever held.
 */
class ArrivalQueue<M> {
  messages: M[] = [];
  generations: number[] = [];
  head = 0;

  get length(): number {
    return this.messages.length - this.head;
  }

  push(message: M, generation: number): void {
    this.messages.push(message);
    this.generations.push(generation);
  }

  /** Drops the first `count` messages. */
  advance(count: number): void {
    this.head += count;
    if (this.head === this.messages.length) {
      this.messages = [];
      this.generations = [];
      this.head = 0;
    } else if (this.head > COMPACT_AFTER && this.head * 2 > this.messages.length) {
      this.messages = this.messages.slice(this.head);
      this.generations = this.generations.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * The messages a broker pushed to a source (RabbitMQ, MQTT) and not yet acknowledged to it, in delivery order:
 * first those the engine has not read (`buffered`), then those it read and a checkpoint does not cover yet
 * (`pending`). Positions count messages read, across runs (a run starts after its checkpoint's count). Each
 * message remembers the connection (`generation`) it came on: one lost takes its unread messages with it (the
 * broker delivers them again), and read ones of it can no longer be acknowledged.
 */
export class MessageWindow<M> {
  private buffered = new ArrivalQueue<M>();
  private readonly pending = new ArrivalQueue<M>();
  /** The position of the first pending message. */
  private firstPending = 1;
  private wakeReader: (() => void) | undefined;

  /** Positions continue after `count` (the checkpoint's). */
  startAfter(count: number): void {
    this.firstPending = count + 1;
  }

  deliver(message: M, generation: number): void {
    this.buffered.push(message, generation);
    this.wake();
  }

  /** Messages delivered and not acknowledged: what the broker counts against its prefetch. */
  get unsettled(): number {
    return this.buffered.length + this.pending.length;
  }

  /** Up to `max` unread messages, now read, with the position of the first; undefined when none is buffered. */
  take(max: number): { readonly messages: M[]; readonly firstPosition: number } | undefined {
    const { buffered, pending } = this;
    const count = Math.min(max, buffered.length);
    if (count === 0) return undefined;
    const messages = buffered.messages.slice(buffered.head, buffered.head + count);
    const firstPosition = this.firstPending + pending.length;
    for (let i = buffered.head; i < buffered.head + count; i++) pending.push(buffered.messages[i]!, buffered.generations[i]!);
    buffered.advance(count);
    return { messages, firstPosition };
  }

  /**
   * Read messages up to `position` are settled: returns those that came on connection `generation` (the live one),
   * in order, for the caller to acknowledge; the others came on a lost connection and will come again.
   */
  settle(position: number, generation: number | undefined): M[] {
    const { pending } = this;
    const count = Math.max(0, Math.min(pending.length, position - this.firstPending + 1));
    const settled: M[] = [];
    for (let i = pending.head; i < pending.head + count; i++) if (pending.generations[i] === generation) settled.push(pending.messages[i]!);
    pending.advance(count);
    this.firstPending += count;
    return settled;
  }

  /** Connection `generation` is lost: its unread messages are dropped (the broker delivers them again). */
  drop(generation: number): void {
    const old = this.buffered;
    const kept = new ArrivalQueue<M>();
    for (let i = old.head; i < old.messages.length; i++) if (old.generations[i] !== generation) kept.push(old.messages[i]!, old.generations[i]!);
    this.buffered = kept;
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
