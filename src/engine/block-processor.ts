import { passThrough, recordsOf, renderLines, type LineBlock, type LineFormat } from '../core/line-block.js';
import type { Transform } from '../core/ports.js';
import { runChain, type ChainResult, type Rejected } from './transform-chain.js';

/** What one line block became: the sink's bytes, and what the chain said about its records. */
export interface BlockResult {
  /** Rendered lines for the sink (`count` records). */
  readonly data: Uint8Array;
  readonly count: number;
  /** Records the block held (what the source read). */
  readonly received: number;
  readonly rejected: Rejected[];
  /** Per stage: [received, sent, rejected] × stages, as in ChainResult. */
  readonly counts: number[];
}

const NONE: Rejected[] = [];
const NO_COUNTS: number[] = [];

/**
 * The block path of the engine, the same on the main thread and on workers: with no transforms a block goes
 * to the sink as the bytes it came as (when the formats allow); otherwise its lines become records, run
 * through the chain, and the survivors are rendered at once. Records live for one synchronous step, so
 * nothing per record survives into the in-flight window: only bytes wait for the sink.
 */
export function processBlock(transforms: readonly Transform[], block: LineBlock, out: LineFormat): BlockResult | Promise<BlockResult> {
  if (transforms.length === 0) {
    const same = passThrough(block, out);
    if (same !== undefined) return { data: same.data, count: same.count, received: same.count, rejected: NONE, counts: NO_COUNTS };
  }
  const records = recordsOf(block);
  const result = runChain(transforms, records);
  if (result instanceof Promise) return result.then((r) => finish(r, records.length, out));
  return finish(result, records.length, out);
}

function finish(result: ChainResult, received: number, out: LineFormat): BlockResult {
  const data = renderLines(result.records, out);
  return { data, count: result.records.length, received, rejected: result.rejected, counts: result.counts };
}
