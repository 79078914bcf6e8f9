import { WireRecord, type Batch } from '../core/record.js';
import type { Transform } from '../core/ports.js';
import { runChain, type ChainResult, type Rejected } from './transform-chain.js';

/** The stage of a record its source could not read (a malformed or invalid line): it never reached a transform. */
export const SOURCE_STAGE = -1;
/** The stage of a record whose value could not be written in the sink's format (a BigInt, a cycle, too deep). */
export const SINK_STAGE = -2;

/** A rejected record's stage as dead letters, errors and metrics name it. */
export function stageName(stage: number): string {
  if (stage === SOURCE_STAGE) return 'source';
  if (stage === SINK_STAGE) return 'sink';
  return `transforms.${stage}`;
}

const NONE: Rejected[] = [];

/**
 * The records of a batch the chain may see, and those its source could not read (rejected at SOURCE_STAGE), in
 * order. The batch itself when every record is readable, as it nearly always is.
 */
export function readable(batch: Batch): { records: Batch; rejected: Rejected[] } {
  let i = 0;
  while (i < batch.length && batch[i]!.unreadable === undefined) i++;
  if (i === batch.length) return { records: batch, rejected: NONE };
  const records = batch.slice(0, i);
  const rejected: Rejected[] = [];
  for (; i < batch.length; i++) {
    const record = batch[i]!;
    const error = record.unreadable;
    if (error === undefined) records.push(record);
    else rejected.push({ record, error, stage: SOURCE_STAGE });
  }
  return { records, rejected };
}

/**
 * Writes each changed record's value as JSON once (kept on the record for the sink), and takes out those JSON
 * cannot hold, at SINK_STAGE, as their source read them: a sink, a worker's reply and a dead letter can then write
 * every record that goes on. Unchanged records are written as read, and a string or a number always can be.
 *
 * With `eager` false (a sink that writes values field by field: `Sink.writesFields`), a flat plain object
 * (`flatPlain`) is let through unwritten: JSON always holds it, and that sink never asks for it. Eager, the JSON is
 * made here, ahead of the sink: in a pipeline on one thread, while the sink waits on its server, not on its critical
 * path.
 */
export function writable(records: Batch, eager = true): { records: Batch; rejected: Rejected[] } {
  let out: Batch | undefined;
  let rejected = NONE;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    // `raw` first: reading `value` of a record still as read would parse it.
    const value = record.raw === undefined ? record.value : undefined;
    if (typeof value === 'object' && value !== null) {
      try {
        if (eager || !flatPlain(value)) record.json();
      } catch (error) {
        out ??= records.slice(0, i);
        if (rejected === NONE) rejected = [];
        rejected.push({ record: asRead(record), error, stage: SINK_STAGE });
        continue;
      }
    }
    out?.push(record);
  }
  return { records: out ?? records, rejected };
}

/**
 * A plain object whose fields are all strings, numbers, booleans, null or undefined: JSON holds it, whatever they
 * are. Not one with a function field (a `toJSON` may throw); a throwing getter throws here, and the record is rejected.
 */
function flatPlain(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const fields = value as Record<string, unknown>;
  for (const key in fields) {
    const field = fields[key];
    const type = typeof field;
    if (field !== null && type !== 'string' && type !== 'number' && type !== 'boolean' && type !== 'undefined') return false;
  }
  return true;
}

/** A record as its source read it (its value null when the source made it as a value), with its key and headers. */
export function asRead(record: WireRecord): WireRecord {
  return record.asRead() ?? new WireRecord({ key: record.key, headers: record.headers, eventTime: record.eventTime, position: record.position, value: null });
}

/** Adds rejections made outside the chain (before it: `first`; after it: `last`) to a chain's result, in stage order. */
export function withRejected(result: ChainResult, first: Rejected[], last: Rejected[] = NONE): ChainResult {
  if (first.length === 0 && last.length === 0) return result;
  const rejected = first.length === 0 && result.rejected.length === 0 ? last : [...first, ...result.rejected, ...last];
  return { records: result.records, rejected, counts: result.counts };
}

/** The chain over records its source read, with what comes out of it checked for writing (`writable`). */
export function runWritable(transforms: readonly Transform[], batch: Batch, eager = true): ChainResult | Promise<ChainResult> {
  const result = runChain(transforms, batch);
  return result instanceof Promise ? result.then((r) => checkOutput(r, eager)) : checkOutput(result, eager);
}

function checkOutput(result: ChainResult, eager: boolean): ChainResult {
  const out = writable(result.records, eager);
  return out.rejected.length === 0 ? result : { records: out.records, rejected: [...result.rejected, ...out.rejected], counts: result.counts };
}
