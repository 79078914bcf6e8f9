import type { Batch, WireRecord } from '../core/record.js';
import type { Transform, TransformContext } from '../core/ports.js';
import { isTimeout } from './deadline.js';

/** A record a transform gave up on, with the stage (index in the chain) that did. */
export interface Rejected {
  readonly record: WireRecord;
  readonly error: unknown;
  readonly stage: number;
}

/** What running the chain on one batch produced; counts are per stage: [received, sent, rejected] × stages. */
export interface ChainResult {
  readonly records: Batch;
  readonly rejected: Rejected[];
  readonly counts: number[];
}

// Shared by results that have none; readers never mutate them.
const EMPTY: Rejected[] = [];
const NO_COUNTS: number[] = [];

/** One run of the chain over one batch: it is the TransformContext, so `reject` knows the current stage. */
class ChainRun implements TransformContext {
  stage = 0;
  rejected: Rejected[] = EMPTY;
  readonly counts: number[];

  constructor(stages: number) {
    this.counts = new Array<number>(stages * 3).fill(0);
  }

  reject(record: WireRecord, error: unknown): void {
    if (this.rejected === EMPTY) this.rejected = [];
    this.rejected.push({ record, error, stage: this.stage });
  }

  /** Drops what the stage rejected during an attempt that then threw for the whole batch. */
  rewindTo(mark: number): void {
    if (this.rejected.length > mark) this.rejected.length = mark;
  }

  count(stage: number, received: number, sent: number, rejectedBefore: number): void {
    this.counts[stage * 3] = received;
    this.counts[stage * 3 + 1] = sent;
    this.counts[stage * 3 + 2] = this.rejected.length - rejectedBefore;
  }
}

/**
 * Runs the transforms over a batch. Synchronous transforms keep it synchronous (no promise per batch);
 * the first transform that returns a promise switches the rest of the run to async. A transform that throws
 * for a whole batch is retried record by record, so only the records it cannot process are rejected and
 * the rest flows (a malformed JSON line does not take its 999 neighbours to the dead-letter sink).
 */
export function runChain(transforms: readonly Transform[], batch: Batch): ChainResult | Promise<ChainResult> {
  if (transforms.length === 0) return { records: batch, rejected: EMPTY, counts: NO_COUNTS };
  const run = new ChainRun(transforms.length);
  let current = batch;
  for (let i = 0; i < transforms.length && current.length > 0; i++) {
    run.stage = i;
    const mark = run.rejected.length;
    let out: Batch | Promise<Batch>;
    try {
      out = transforms[i]!.process(current, run);
    } catch (error) {
      run.rewindTo(mark);
      out = isolate(transforms[i]!, current, run, error);
    }
    if (!Array.isArray(out)) return continueAsync(transforms, run, i, current, out, mark);
    run.count(i, current.length, out.length, mark);
    current = out;
  }
  return { records: current, rejected: run.rejected, counts: run.counts };
}

async function continueAsync(
  transforms: readonly Transform[],
  run: ChainRun,
  stage: number,
  input: Batch,
  pending: Promise<Batch>,
  mark: number,
): Promise<ChainResult> {
  let current: Batch;
  try {
    current = await pending;
  } catch (error) {
    run.rewindTo(mark);
    current = await isolate(transforms[stage]!, input, run, error);
  }
  run.count(stage, input.length, current.length, mark);
  for (let i = stage + 1; i < transforms.length && current.length > 0; i++) {
    run.stage = i;
    const before = run.rejected.length;
    const received = current;
    try {
      current = await transforms[i]!.process(received, run);
    } catch (error) {
      run.rewindTo(before);
      current = await isolate(transforms[i]!, received, run, error);
    }
    run.count(i, received.length, current.length, before);
  }
  return { records: current, rejected: run.rejected, counts: run.counts };
}

/**
 * The error path: one record at a time, rejecting those the transform still throws on. A batch that ran out of
 * time is rejected whole: trying its records one by one could take the deadline once per record.
 */
async function isolate(transform: Transform, batch: Batch, run: ChainRun, batchError: unknown): Promise<Batch> {
  if (batch.length === 1 || isTimeout(batchError)) {
    for (const record of batch) run.reject(record, batchError);
    return [];
  }
  const out: Batch = [];
  for (const record of batch) {
    try {
      const result = await transform.process([record], run);
      for (const r of result) out.push(r);
    } catch (error) {
      run.reject(record, error);
    }
  }
  return out;
}
