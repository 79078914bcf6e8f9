import { WireError } from '../../core/errors.js';
import { MAX_DEPTH, jsonLineError } from '../../core/json-scan.js';
import { WireRecord } from '../../core/record.js';

const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines']);

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function isJsonType(type: string): boolean {
  return type === 'application/json' || type.endsWith('+json');
}

function fromDocument(value: unknown, positionOf: (index: number) => number): WireRecord[] {
  if (Array.isArray(value)) return value.map((item, i) => WireRecord.fromValue(item, positionOf(i)));
  if (value !== null && typeof value === 'object') return [WireRecord.fromValue(value, positionOf(0))];
  throw new WireError('INVALID_INPUT', 'the body must be a JSON object, a JSON array or JSON lines', { type: typeof value });
}

function parseDocument(text: string, positionOf: (index: number) => number): WireRecord[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new WireError('INVALID_INPUT', `malformed JSON body: ${(err as Error).message}`, {});
  }
  return fromDocument(value, positionOf);
}

function parseLines(text: string, positionOf: (index: number) => number): WireRecord[] {
  const records: WireRecord[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n]!;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    // Parsed now so a malformed line rejects the request, but the raw text is kept for pass-through.
    const record = WireRecord.fromRaw(line, positionOf(records.length));
    try {
      void record.value;
    } catch (err) {
      throw new WireError('INVALID_INPUT', `malformed JSON on line ${n + 1}: ${(err as Error).message}`, { line: n + 1 });
    }
    // A line long enough to nest past MAX_DEPTH is scanned: it would pass through as read, as a file's line would not.
    if (line.length > 2 * MAX_DEPTH) {
      const bytes = Buffer.from(line, 'utf8');
      const error = jsonLineError(bytes, 0, bytes.length);
      if (error !== undefined) throw new WireError('INVALID_INPUT', `${error.message} on line ${n + 1}`, { line: n + 1 });
    }
    records.push(record);
  }
  return records;
}

/**
 * Turns a request body into records: a JSON object (one record), a JSON array (one per element) or
 * JSON lines. The content type decides; without a JSON or NDJSON type the body is sniffed.
 * Throws INVALID_INPUT (a 400) for anything malformed, so a request is taken whole or not at all.
 */
export function parseBody(text: string, contentType: string | undefined, positionOf: (index: number) => number): WireRecord[] {
  if (text.trim() === '') throw new WireError('INVALID_INPUT', 'the body is empty', {});
  const type = mediaType(contentType);
  if (NDJSON_TYPES.has(type)) return parseLines(text, positionOf);
  if (isJsonType(type)) return parseDocument(text, positionOf);
  const start = text.trimStart();
  if (start.startsWith('[')) return parseDocument(text, positionOf);
  try {
    return fromDocument(JSON.parse(text), positionOf);
  } catch (err) {
    if (err instanceof WireError) throw err;
    return parseLines(text, positionOf);
  }
}
