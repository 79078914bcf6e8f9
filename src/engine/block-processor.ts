import { passThrough, piecesOf, recordsOf, renderLines, type LineBlock, type LineFormat, type RenderBuffers } from '../core/line-block.js';
import type { Transform } from '../core/ports.js';
import { WireRecord } from '../core/record.js';
import { SOURCE_STAGE, readable, runWritable, withRejected } from './record-checks.js';
import type { ChainResult, Rejected } from './transform-chain.js';

/** What one line block became: the sink's bytes, and what the chain said about its records. */
export interface BlockResult {
  /** Rendered lines for the sink (`count` records in all), in order; each chunk owns its ArrayBuffer. */
  readonly chunks: Uint8Array[];
  readonly count: number;
  /** Records the block held (what the source read). */
  readonly received: number;
  readonly rejected: Rejected[];
  /** Per stage: [received, sent, rejected] × stages, as in ChainResult. */
  readonly counts: number[];
  /** The block's own bytes, back from a worker that is done with them: for the source to read into again. */
  readonly returned?: Uint8Array;
  /** The chunks were rendered here, from the `RenderBuffers` given to `processBlock`: give them back once written. */
  readonly rendered?: boolean;
}

const NONE: Rejected[] = [];
const NO_COUNTS: number[] = [];

/**
 * The block path of the engine, the same on the main thread and on workers: with no transforms a block goes
 * to the sink as the bytes it came as (when the formats allow and every line is valid); otherwise each piece of
 * it (PIECE_BYTES, cut at newlines) becomes records, those the source could not read are rejected, the rest run
 * through the chain, and the survivors are rendered at once. Records live for one step, so nothing per record
 * survives into the in-flight window: only bytes wait for the sink.
 */
export function processBlock(
  transforms: readonly Transform[],
  block: LineBlock,
  out: LineFormat,
  buffers?: RenderBuffers,
): BlockResult | Promise<BlockResult> {
  if (transforms.length === 0) {
    const same = passThrough(block, out);
    if (same !== undefined) return { chunks: same.chunks, count: same.count, received: same.count, rejected: NONE, counts: NO_COUNTS };
  }
  const acc = new Accumulator(transforms.length, buffers);
  const pieces = piecesOf(block.data);
  // Transforms read every value: parsing each line as it is cut checks it as well as a scan would, for free.
  const parse = transforms.length > 0 || block.strict === true;
  for (let i = 0; i < pieces.length; i++) {
    const records = recordsOf({ ...block, data: pieces[i]! }, parse, offsetIn(block, pieces[i]!));
    const read = readable(records);
    const result = runWritable(transforms, read.records);
    if (result instanceof Promise) {
      const pending = result.then((r) => withRejected(r, read.rejected));
      return finishAsync(transforms, block, pieces, i, pending, records.length, acc, out, parse);
    }
    acc.add(withRejected(result, read.rejected), records.length, out);
  }
  return acc.result();
}

/** The rest of a block once some transform went async: pieces one after another, in order. */
async function finishAsync(
  transforms: readonly Transform[],
  block: LineBlock,
  pieces: Uint8Array[],
  at: number,
  pending: Promise<ChainResult>,
  received: number,
  acc: Accumulator,
  out: LineFormat,
  parse: boolean,
): Promise<BlockResult> {
  acc.add(await pending, received, out);
  for (let i = at + 1; i < pieces.length; i++) {
    const records = recordsOf({ ...block, data: pieces[i]! }, parse, offsetIn(block, pieces[i]!));
    const read = readable(records);
    acc.add(withRejected(await runWritable(transforms, read.records), read.rejected), records.length, out);
  }
  return acc.result();
}

/** Where a piece of a block starts in it: its records' positions are their lines' ends in the block. */
function offsetIn(block: LineBlock, piece: Uint8Array): number {
  return piece.byteOffset - block.data.byteOffset;
}

/**
 * The block's rejected records with their positions in the source: they left `processBlock` with their lines' ends
 * in the block, which the source turns into positions (`LineBlock.lineEnd`); none when it cannot. Only the records
 * going to the dead letter are touched.
 */
export function locateRejected(result: BlockResult, block: LineBlock): BlockResult {
  for (const r of result.rejected) {
    const end = r.record.position;
    r.record.position = typeof end === 'number' && block.lineEnd !== undefined ? block.lineEnd(end) : undefined;
  }
  return result;
}

/** Sums the pieces of one block into its result. */
class Accumulator {
  private readonly chunks: Uint8Array[] = [];
  private count = 0;
  private received = 0;
  private rejected: Rejected[] = NONE;
  private readonly counts: number[];

  constructor(
    stages: number,
    private readonly buffers: RenderBuffers | undefined,
  ) {
    this.counts = new Array<number>(stages * 3).fill(0);
  }

  add(result: ChainResult, received: number, out: LineFormat): void {
    this.received += received;
    if (result.records.length > 0) {
      this.chunks.push(renderLines(result.records, out, this.buffers));
      this.count += result.records.length;
    }
    if (result.rejected.length > 0) this.rejected = this.rejected === NONE ? result.rejected : this.rejected.concat(result.rejected);
    const counts = result.counts;
    for (let i = 0; i < counts.length; i++) this.counts[i]! += counts[i]!;
  }

  result(): BlockResult {
    const { chunks, count, received, rejected, counts } = this;
    return this.buffers === undefined ? { chunks, count, received, rejected, counts } : { chunks, count, received, rejected, counts, rendered: true };
  }
}

/** A block's result with the line its source skipped before it (too long: `LineBlock.longLine`) rejected first. */
export function withLongLine(result: BlockResult, block: LineBlock): BlockResult {
  const long = block.longLine;
  if (long === undefined) return result;
  const record = WireRecord.unreadableLine(long.bytes, long.error, block.position);
  return { ...result, received: result.received + 1, rejected: [{ record, error: long.error, stage: SOURCE_STAGE }, ...result.rejected] };
}
