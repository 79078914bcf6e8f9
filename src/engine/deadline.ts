import { WireError, isWireError } from '../core/errors.js';
import type { ComponentSpec } from '../core/pipeline.js';
import type { Transform, TransformContext } from '../core/ports.js';
import type { Batch, WireRecord } from '../core/record.js';

/** Whether a transform gave up on a batch for lack of time: its records are not retried one by one. */
export function isTimeout(error: unknown): boolean {
  return isWireError(error) && error.code === 'TIMEOUT';
}

/**
 * The context of one call: `signal` is aborted when the call's time is up, and what the transform rejects
 * after that is ignored (the chain has moved on without it).
 */
class CallContext implements TransformContext {
  private controller: AbortController | undefined;
  private expired = false;

  constructor(private readonly outer: TransformContext) {}

  get signal(): AbortSignal {
    // Made on first use: only transforms that can give up early (js) look at it.
    return (this.controller ??= new AbortController()).signal;
  }

  reject(record: WireRecord, error: unknown): void {
    if (!this.expired) this.outer.reject(record, error);
  }

  expire(reason: WireError): void {
    this.expired = true;
    this.controller?.abort(reason);
  }
}

/** A call of a transform that has not answered yet. */
interface Waiting {
  readonly call: CallContext;
  readonly records: number;
  readonly reject: (error: unknown) => void;
}

/**
 * A transform whose asynchronous answers must keep coming: its oldest unanswered call fails with TIMEOUT once
 * it has been the oldest for `timeoutMs`. Counting from when a call becomes the oldest, not from when it was
 * made, keeps calls queued behind a stuck one (on the same thread) from timing out with it; and one timer per
 * transform, not per call, is enough.
 */
class DeadlineTransform implements Transform {
  /** Unanswered calls, oldest first (a Set keeps insertion order). */
  private readonly waiting = new Set<Waiting>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly inner: Transform,
    private readonly stage: string,
    private readonly timeoutMs: number,
  ) {}

  process(batch: Batch, ctx: TransformContext): Batch | Promise<Batch> {
    const call = new CallContext(ctx);
    const out = this.inner.process(batch, call);
    // A synchronous answer needs no timer (and a blocked thread could not run one: js runs on its own thread).
    if (Array.isArray(out)) return out;
    return new Promise<Batch>((resolve, reject) => {
      const waiting: Waiting = { call, records: batch.length, reject };
      this.waiting.add(waiting);
      if (this.waiting.size === 1) this.arm();
      out.then(
        (result) => {
          if (this.answered(waiting)) resolve(result);
        },
        (error: unknown) => {
          if (this.answered(waiting)) reject(error);
        },
      );
    });
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }

  /** False when the call had already timed out: its answer is ignored. */
  private answered(waiting: Waiting): boolean {
    const oldest = this.oldest();
    if (!this.waiting.delete(waiting)) return false;
    if (waiting === oldest) this.arm();
    return true;
  }

  private oldest(): Waiting | undefined {
    return this.waiting.values().next().value;
  }

  /** Starts the clock of the oldest call, if any. */
  private arm(): void {
    clearTimeout(this.timer);
    const oldest = this.oldest();
    this.timer = oldest === undefined ? undefined : setTimeout(() => this.expire(oldest), this.timeoutMs);
  }

  private expire(waiting: Waiting): void {
    this.waiting.delete(waiting);
    const error = new WireError('TIMEOUT', `${this.stage} did not finish a batch of ${waiting.records} within ${this.timeoutMs} ms (transform_timeout)`, {
      stage: this.stage,
      timeoutMs: this.timeoutMs,
    });
    waiting.call.expire(error);
    waiting.reject(error);
    this.arm();
  }
}

/** The chain with a deadline on every transform's asynchronous answers (`transform_timeout`). */
export function withDeadlines(transforms: readonly Transform[], specs: readonly ComponentSpec[], timeoutMs: number): Transform[] {
  return transforms.map((transform, i) => new DeadlineTransform(transform, `transforms.${i} (${specs[i]?.type ?? 'transform'})`, timeoutMs));
}
