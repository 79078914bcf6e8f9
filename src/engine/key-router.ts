import type { Position } from '../core/record.js';
import { LaneQueue } from './lane-queue.js';
import type { ChainResult } from './transform-chain.js';

/** A source batch whose chain is running (or ran): it is split into lanes once its result is known. */
export interface RoutedBatch {
  readonly result: ChainResult | Promise<ChainResult>;
  /** The batch's last source position. */
  readonly position: Position | undefined;
  readonly readAt: number;
}

/**
 * With several lanes and a chain that may set keys (a `key` transform), records cannot be split into lanes
 * before the chain runs: the key that decides the lane does not exist yet. Chains still run at once and side
 * by side (here or on workers), but their results are routed in source order, each record by the key the chain
 * left on it, so every batch's records of one key reach their lane after the earlier batches' ones.
 */
export class KeyRouter {
  private readonly queue = new LaneQueue<RoutedBatch>();
  /** Batches read and not yet routed: they count toward the in-flight window like batches in lanes. */
  private waiting = 0;

  constructor(private readonly route: (result: ChainResult, batch: RoutedBatch) => void) {}

  get pending(): number {
    return this.waiting;
  }

  push(batch: RoutedBatch): void {
    // A result ready now, with nothing before it waiting, is routed at once: no turn of the loop per batch.
    if (this.waiting === 0 && !(batch.result instanceof Promise)) {
      this.route(batch.result, batch);
      return;
    }
    this.waiting++;
    this.queue.push(batch);
  }

  /** Routes batches in the order they were pushed until `close` (or `discard`); stops early once `halted`. */
  async run(halted: () => boolean): Promise<void> {
    while (!halted()) {
      const taken = this.queue.take();
      const batch = taken instanceof Promise ? await taken : taken;
      if (batch === undefined) return;
      const result = batch.result instanceof Promise ? await batch.result : batch.result;
      if (halted()) return;
      this.waiting--;
      this.route(result, batch);
    }
  }

  /** No more batches: `run` ends once it has routed those queued. */
  close(): void {
    this.queue.close();
  }

  /** Drops the batches queued (kill, failure). */
  discard(): void {
    this.queue.discard();
  }
}
