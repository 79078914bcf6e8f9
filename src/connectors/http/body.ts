import { WireError } from '../../core/errors.js';
import { jsonLineError } from '../../core/json-scan.js';
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

/**
 * JSON lines: each checked by the byte scanner the file source uses (`jsonLineError`), so a malformed line
 * rejects the request and the same lines pass as through a file; the values are not built here (a record's
 * value is parsed on first access), which keeps a pass-through ingest from allocating them.
 */
function parseLines(body: Uint8Array, text: string, positionOf: (index: number) => number): WireRecord[] {
  const records: WireRecord[] = [];
  // '\n' is one byte in UTF-8 and one code unit in the text: the n-th line of each is the same line.
  const lines = text.split('\n');
  let start = 0;
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n]!;
    let end = n === lines.length - 1 ? body.length : body.indexOf(10, start);
    const next = end + 1;
    if (line.endsWith('\r')) {
      line = line.slice(0, -1);
      end--;
    }
    if (line.trim() !== '') {
      const error = jsonLineError(body, start, end);
      if (error !== undefined) throw new WireError('INVALID_INPUT', `${error.message} on line ${n + 1}`, { line: n + 1 });
      records.push(WireRecord.fromRaw(line, positionOf(records.length)));
    }
    start = next;
  }
  return records;
}

/**
 * Turns a request body into records: a JSON object (one record), a JSON array (one per element) or
 * JSON lines. The content type decides; without a JSON or NDJSON type the body is sniffed. `text` is `body` decoded.
 * Throws INVALID_INPUT (a 400) for anything malformed, so a request is taken whole or not at all.
 */
export function parseBody(
  body: Uint8Array,
  text: string,
  contentType: string | undefined,
  positionOf: (index: number) => number,
): WireRecord[] {
  if (text.trim() === '') throw new WireError('INVALID_INPUT', 'the body is empty', {});
  const type = mediaType(contentType);
  if (NDJSON_TYPES.has(type)) return parseLines(body, text, positionOf);
  if (isJsonType(type)) return parseDocument(text, positionOf);
  const start = text.trimStart();
  if (start.startsWith('[')) return parseDocument(text, positionOf);
  try {
    return fromDocument(JSON.parse(text), positionOf);
  } catch (err) {
    if (err instanceof WireError) throw err;
    return parseLines(body, text, positionOf);
  }
}
