import { isUtf8 } from 'node:buffer';
import { WireRecord } from '../core/record.js';
import { errorMessage, isWireError } from '../core/errors.js';
import { asRead } from './record-checks.js';
import type { SourceLocation } from '../core/ports.js';

/** A dead letter's copy of its record: a field name and its JSON. */
interface Kept {
  readonly field: 'record' | 'raw_base64';
  readonly json: string;
}

const decoder = new TextDecoder();

/**
 * The record as its dead letter keeps it: its value; a line its source could not read as its text (or its bytes in
 * base64 when they are not UTF-8); a value JSON cannot hold as its source read it.
 */
function keptOf(record: WireRecord): Kept {
  const origin = record.origin;
  if (record.unreadable !== undefined && origin !== undefined) {
    if (typeof origin === 'string') return { field: 'record', json: JSON.stringify(origin) };
    if (isUtf8(origin)) return { field: 'record', json: JSON.stringify(decoder.decode(origin)) };
    return { field: 'raw_base64', json: JSON.stringify(Buffer.from(origin.buffer, origin.byteOffset, origin.byteLength).toString('base64')) };
  }
  try {
    // A raw record no source checked is kept as text unless it parses.
    if (!record.parsed) void record.value;
    return { field: 'record', json: record.json() };
  } catch {
    // Not lost: the dead letter's error says why the record failed; this is only how it is kept.
    if (!record.parsed) return { field: 'record', json: JSON.stringify(record.text()) };
    return keptOf(asRead(record));
  }
}

/** What a dead letter says of where its record was: the pipeline, and where in the source (when known). */
export interface LetterContext {
  readonly pipeline: string;
  readonly source?: SourceLocation;
}

/**
 * Wraps a record that could not be delivered: `{ error, stage, attempts, time, pipeline, source?, record | raw_base64,
 * code? }`, as JSON text (a kept record goes in as written, so its depth is not counted again). The key and headers
 * stay so a dead-letter sink partitioned by key keeps working.
 */
export function deadLetterRecord(record: WireRecord, error: unknown, stage: string, attempts: number, time: number, context: LetterContext): WireRecord {
  const kept = keptOf(record);
  let text =
    `{"error":${JSON.stringify(errorMessage(error))},"stage":${JSON.stringify(stage)},"attempts":${attempts},` +
    `"time":${JSON.stringify(new Date(time).toISOString())},"pipeline":${JSON.stringify(context.pipeline)},`;
  if (context.source !== undefined) text += `"source":${JSON.stringify(context.source)},`;
  text += `"${kept.field}":${kept.json}`;
  if (isWireError(error)) text += `,"code":${JSON.stringify(error.code)}`;
  return new WireRecord({ key: record.key, headers: record.headers, eventTime: record.eventTime, position: record.position, raw: text + '}' });
}
