import { WireError } from '../../core/errors.js';
import { jsonLineError } from '../../core/json-scan.js';
import { WireRecord } from '../../core/record.js';

const NEWLINE = 10;
const CR = 13;

const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines']);

function emptyBody(): WireError {
  return new WireError('INVALID_INPUT', 'the body is empty', {});
}

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
 * rejects the request and the same lines pass as through a file. A record keeps its line's bytes (a view of the
 * body): its value is not built and its text not decoded here, so a pass-through ingest writes the bytes as they
 * came (`WireRecord.jsonBytes`). A line that is only whitespace (`trim()`) carries no record; a CR before the
 * newline is not part of the line.
 */
function parseLines(body: Buffer, positionOf: (index: number) => number): WireRecord[] {
  const records: WireRecord[] = [];
  for (let start = 0, line = 1; start <= body.length; line++) {
    let next = body.indexOf(NEWLINE, start);
    if (next < 0) next = body.length;
    const end = next > start && body[next - 1] === CR ? next - 1 : next;
    if (end > start) {
      const error = jsonLineError(body, start, end);
      if (error === undefined) {
        // A plain view: cheaper to make than a Buffer's subarray, one per record.
        const bytes = new Uint8Array(body.buffer, body.byteOffset + start, end - start);
        records.push(WireRecord.fromRaw(bytes, positionOf(records.length)));
      }
      // Only a line that is not JSON is decoded, to tell a blank one from a malformed one.
      else if (body.toString('utf8', start, end).trim() !== '') {
        throw new WireError('INVALID_INPUT', `${error.message} on line ${line}`, { line });
      }
    }
    start = next + 1;
  }
  return records;
}

/**
 * Turns a request body into records: a JSON object (one record), a JSON array (one per element) or
 * JSON lines. The content type decides; without a JSON or NDJSON type the body is sniffed.
 * Throws INVALID_INPUT (a 400) for anything malformed, so a request is taken whole or not at all.
 */
export function parseBody(body: Buffer, contentType: string | undefined, positionOf: (index: number) => number): WireRecord[] {
  const type = mediaType(contentType);
  if (NDJSON_TYPES.has(type)) {
    const records = parseLines(body, positionOf);
    // Every line blank: the body is only whitespace.
    if (records.length === 0) throw emptyBody();
    return records;
  }
  const text = body.toString('utf8');
  if (text.trim() === '') throw emptyBody();
  if (isJsonType(type)) return parseDocument(text, positionOf);
  const start = text.trimStart();
  if (start.startsWith('[')) return parseDocument(text, positionOf);
  try {
    return fromDocument(JSON.parse(text), positionOf);
  } catch (err) {
    if (err instanceof WireError) throw err;
    return parseLines(body, positionOf);
  }
}
