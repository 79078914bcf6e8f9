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

/** A transform whose asynchronous answers must come within `timeoutMs`, else the call fails with TIMEOUT. */
class DeadlineTransform implements Transform {
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
      const timer = setTimeout(() => {
        const error = new WireError('TIMEOUT', `${this.stage} did not finish a batch of ${batch.length} within ${this.timeoutMs} ms (transform_timeout)`, {
          stage: this.stage,
          timeoutMs: this.timeoutMs,
        });
        call.expire(error);
        reject(error);
      }, this.timeoutMs);
      out.then(
        (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve();
  }
}

/** The chain with a deadline on every transform's asynchronous answers (`transform_timeout`). */
export function withDeadlines(transforms: readonly Transform[], specs: readonly ComponentSpec[], timeoutMs: number): Transform[] {
  return transforms.map((transform, i) => new DeadlineTransform(transform, `transforms.${i} (${specs[i]?.type ?? 'transform'})`, timeoutMs));
}
