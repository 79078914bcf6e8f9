import { WireRecord } from '../core/record.js';
import { errorMessage, isWireError } from '../core/errors.js';

/** The original value when it parses, else its raw text: a malformed line is kept as it was read. */
function originalOf(record: WireRecord): unknown {
  try {
    return record.value;
  } catch {
    return record.text();
  }
}

/**
 * Wraps a record that could not be delivered: `{ error, code?, stage, attempts, time, record }`.
 * The key and headers stay so a dead-letter sink partitioned by key keeps working.
 */
export function deadLetterRecord(record: WireRecord, error: unknown, stage: string, attempts: number, time: number): WireRecord {
  const value: Record<string, unknown> = {
    error: errorMessage(error),
    stage,
    attempts,
    time: new Date(time).toISOString(),
    record: originalOf(record),
  };
  if (isWireError(error)) value.code = error.code;
  return new WireRecord({ key: record.key, headers: record.headers, eventTime: record.eventTime, position: record.position, value });
}
