import { Worker } from 'node:worker_threads';
import { WireError } from '../core/errors.js';
import type { ComponentSpec } from '../core/pipeline.js';
import type { LineBlock, LineFormat } from '../core/line-block.js';
import type { Batch } from '../core/record.js';
import { decodeBatch, encodeBatch, transferablesOf, type EncodedBatch } from './batch-codec.js';
import type { ChainResult, Rejected } from './transform-chain.js';
import type { RejectedError, WorkerRequest, WorkerResponse, WorkerSetup } from './worker-protocol.js';
import type { BlockResult } from './block-processor.js';

interface Pending {
  resolve(result: ChainResult | BlockResult): void;
  reject(error: unknown): void;
}

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  exited: boolean;
}

export interface WorkerPoolOptions {
  readonly size: number;
  /** The module the workers build transforms from (see `registryFromModule`). */
  readonly transformsModule: URL | string;
  readonly transforms: readonly ComponentSpec[];
  readonly transformTimeoutMs: number;
  /** Told once if a worker dies or reports a fatal error; the runner fails the pipeline. */
  readonly onFatal: (error: WireError) => void;
}

/**
 * Under vitest or tsx this module (and maybe the transforms module) is TypeScript; its worker then needs tsx's
 * loader registered before the entry is imported, which `execArgv: ['--import', 'tsx']` does not do for a
 * worker's entry on Node 20. A tiny eval'd bootstrap registers tsx, then imports the entry.
 */
function startWorker(setup: WorkerSetup): Worker {
  const self = import.meta.url;
  const typescript = self.endsWith('.ts') || /\.[cm]?ts$/.test(new URL(setup.transformsModule).pathname);
  // `../engine/` (not `./`): the same path from this module and from the CLI's bundle in dist/cli/.
  const entry = new URL(self.endsWith('.ts') ? '../engine/transform-worker.ts' : '../engine/transform-worker.js', self);
  if (!typescript) return new Worker(entry, { workerData: setup });
  const bootstrap = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: setup });
}

/**
 * Worker threads that each run the whole transform chain. A batch goes to the worker with the fewest
 * batches pending; results come back as one text blob per batch. Order is the caller's business: it
 * awaits the promises in the order it needs.
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private nextSpare = 0;
  private failure: WireError | undefined;
  private closing = false;
  /** Until every worker is ready, a failure is `start`'s to report (it rejects), not `onFatal`'s. */
  private started = false;

  private constructor(private readonly options: WorkerPoolOptions) {}

  /** Worker threads in the pool. */
  get size(): number {
    return this.options.size;
  }

  static async start(options: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    try {
      await Promise.all(Array.from({ length: options.size }, () => pool.spawn()));
      pool.started = true;
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  private spawn(): Promise<void> {
    const { transformsModule, transforms, transformTimeoutMs } = this.options;
    const setup: WorkerSetup = { transformsModule: String(transformsModule), transforms, transformTimeoutMs };
    const worker = startWorker(setup);
    const slot: Slot = { worker, pending: new Map(), exited: false };
    this.slots.push(slot);
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      worker.on('message', (message: WorkerResponse) => {
        if (message.type === 'ready') {
          ready = true;
          resolve();
        } else if (message.type === 'result') {
          const pending = slot.pending.get(message.id);
          slot.pending.delete(message.id);
          pending?.resolve(resultOf(message.records, message.rejected, message.errors, message.counts));
        } else if (message.type === 'blockResult') {
          const pending = slot.pending.get(message.id);
          slot.pending.delete(message.id);
          const { chunks, count, received, counts, returned, rendered } = message;
          const rejected = rejectedOf(message.rejected, message.errors);
          pending?.resolve({
            chunks,
            count,
            received,
            rejected,
            counts,
            ...(returned === undefined ? {} : { returned }),
            ...(rendered === true ? { rendered } : {}),
          });
        } else {
          const error = new WireError(message.code ?? 'INTERNAL', `transform worker: ${message.message}`);
          if (!ready) reject(error);
          this.die(slot, error);
        }
      });
      worker.on('error', (error) => {
        const wrapped = new WireError('INTERNAL', `transform worker crashed: ${error.message}`, {}, error);
        if (!ready) reject(wrapped);
        this.die(slot, wrapped);
      });
      worker.on('exit', (code) => {
        slot.exited = true;
        const error = new WireError('INTERNAL', `transform worker exited with code ${code}`);
        if (!ready) reject(error);
        if (!this.closing || slot.pending.size > 0) this.die(slot, error);
      });
    });
  }

  private die(slot: Slot, error: WireError): void {
    for (const pending of slot.pending.values()) pending.reject(error);
    slot.pending.clear();
    if (this.failure === undefined && !this.closing) {
      this.failure = error;
      if (this.started) this.options.onFatal(error);
    }
  }

  process(batch: Batch): Promise<ChainResult> {
    const encoded = encodeBatch(batch);
    return this.send<ChainResult>((id) => ({ type: 'process', id, batch: encoded }), transferablesOf(encoded));
  }

  /** Runs the chain over a block's lines on a worker; the block's buffer is transferred (unusable here after). */
  processBlock(block: LineBlock, out: LineFormat): Promise<BlockResult> {
    const { data, format } = block;
    const strict = block.strict === true;
    return this.send<BlockResult>((id) => ({ type: 'block', id, data, format, strict, out }), [data.buffer as ArrayBuffer]);
  }

  /**
   * Gives rendered chunks the sink has written back to a worker (in turn), to render into again. Chunks of
   * `rendered` block results only: they own their memory, and nothing here reads them after this.
   */
  recycle(chunks: Uint8Array[]): void {
    if (chunks.length === 0 || this.closing || this.failure !== undefined) return;
    for (let tries = 0; tries < this.slots.length; tries++) {
      const slot = this.slots[this.nextSpare++ % this.slots.length]!;
      if (slot.exited) continue;
      const request: WorkerRequest = { type: 'spare', chunks };
      slot.worker.postMessage(request, chunks.map((c) => c.buffer as ArrayBuffer));
      return;
    }
  }

  /** Posts to the worker with the fewest requests pending. */
  private send<R extends ChainResult | BlockResult>(request: (id: number) => WorkerRequest, transfer: ArrayBuffer[]): Promise<R> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (!slot.exited && (best === undefined || slot.pending.size < best.pending.size)) best = slot;
    }
    if (best === undefined) return Promise.reject(new WireError('INTERNAL', 'no transform worker is running'));
    const target = best;
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      target.pending.set(id, { resolve: resolve as (result: ChainResult | BlockResult) => void, reject });
      target.worker.postMessage(request(id), transfer);
    });
  }

  /** Asks each worker to close its transforms and exit; terminates any that does not within `graceMs`. */
  async close(graceMs = 5_000): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.slots.map(async (slot) => {
        if (slot.exited) return;
        const exited = new Promise<void>((resolve) => slot.worker.once('exit', () => resolve()));
        slot.worker.postMessage({ type: 'close' });
        const timer = setTimeout(() => void slot.worker.terminate(), graceMs);
        try {
          await exited;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
  }

  /** Stops every worker at once (kill). */
  async terminate(): Promise<void> {
    this.closing = true;
    await Promise.all(this.slots.map((slot) => (slot.exited ? undefined : slot.worker.terminate())));
  }
}

function resultOf(records: EncodedBatch, rejected: EncodedBatch, errors: RejectedError[], counts: number[]): ChainResult {
  return { records: decodeBatch(records), rejected: rejectedOf(rejected, errors), counts };
}

function rejectedOf(rejected: EncodedBatch, errors: RejectedError[]): Rejected[] {
  return decodeBatch(rejected).map((record, i) => {
    const e = errors[i]!;
    const error = e.code === undefined ? new Error(e.message) : new WireError(e.code, e.message);
    return { record, error, stage: e.stage };
  });
}
