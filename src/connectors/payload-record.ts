import { jsonLineError, utf8LineError } from '../core/json-scan.js';
import { WireRecord, type Position } from '../core/record.js';

const decoder = new TextDecoder();

/**
 * A message's payload as a record: one JSON value (`json`) or a string (`text`). A payload that is not one (malformed
 * or empty JSON, invalid UTF-8, nested too deep) becomes an unreadable record holding the bytes as received, which
 * the engine sends to `on_error` before any transform: never passed on as it is, never altered by UTF-8 replacement.
 */
export function payloadRecord(payload: Uint8Array, format: 'json' | 'text', position: Position): WireRecord {
  const text = format === 'text';
  const error = text ? utf8LineError(payload, 0, payload.length) : jsonLineError(payload, 0, payload.length);
  if (error !== undefined) return WireRecord.unreadableLine(payload, error, position);
  return text ? WireRecord.fromText(decoder.decode(payload), position) : WireRecord.fromRaw(payload, position);
}
