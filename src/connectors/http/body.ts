import { WireError } from '../../core/errors.js';
import { jsonLineError } from '../../core/json-scan.js';
import { WireRecord } from '../../core/record.js';

const NEWLINE = 10;
const CR = 13;

/**
 * A request's records, made when the engine reads them: a JSON line stays a place in the body until then, so a
 * request waiting its turn holds its bytes and two numbers per line, not objects the garbage collector must move.
 */
export interface BodyRecords {
  readonly count: number;
  /** Appends records `from` to `to - 1` to `batch`. */
  pushTo(batch: WireRecord[], from: number, to: number): void;
}

class DocumentRecords implements BodyRecords {
  constructor(private readonly records: WireRecord[]) {}

  get count(): number {
    return this.records.length;
  }

  pushTo(batch: WireRecord[], from: number, to: number): void {
    for (let i = from; i < to; i++) batch.push(this.records[i]!);
  }
}

/** JSON lines of a body, each `[start, end)` of its bytes (checked already). */
class LineRecords implements BodyRecords {
  constructor(
    private readonly body: Buffer,
    private readonly bounds: number[],
    private readonly positionOf: (index: number) => number,
  ) {}

  get count(): number {
    return this.bounds.length >> 1;
  }

  pushTo(batch: WireRecord[], from: number, to: number): void {
    const { body, bounds } = this;
    for (let i = from; i < to; i++) {
      const start = bounds[2 * i]!;
      // A plain view: cheaper to make than a Buffer's subarray, one per record.
      const bytes = new Uint8Array(body.buffer, body.byteOffset + start, bounds[2 * i + 1]! - start);
      batch.push(WireRecord.fromRaw(bytes, this.positionOf(i)));
    }
  }
}

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

function parseDocument(text: string, positionOf: (index: number) => number): BodyRecords {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new WireError('INVALID_INPUT', `malformed JSON body: ${(err as Error).message}`, {});
  }
  return new DocumentRecords(fromDocument(value, positionOf));
}

/**
 * JSON lines: each checked by the byte scanner the file source uses (`jsonLineError`), so a malformed line
 * rejects the request and the same lines pass as through a file. A record will keep its line's bytes (a view of
 * the body): its value is not built and its text not decoded, so a pass-through ingest writes the bytes as they
 * came (`WireRecord.jsonBytes`). A line that is only whitespace (`trim()`) carries no record; a CR before the
 * newline is not part of the line.
 */
function parseLines(body: Buffer, positionOf: (index: number) => number): BodyRecords {
  const bounds: number[] = [];
  for (let start = 0, line = 1; start <= body.length; line++) {
    let next = body.indexOf(NEWLINE, start);
    if (next < 0) next = body.length;
    const end = next > start && body[next - 1] === CR ? next - 1 : next;
    if (end > start) {
      const error = jsonLineError(body, start, end);
      if (error === undefined) bounds.push(start, end);
      // Only a line that is not JSON is decoded, to tell a blank one from a malformed one.
      else if (body.toString('utf8', start, end).trim() !== '') {
        throw new WireError('INVALID_INPUT', `${error.message} on line ${line}`, { line });
      }
    }
    start = next + 1;
  }
  return new LineRecords(body, bounds, positionOf);
}

/**
 * Turns a request body into records (made when read, see BodyRecords): a JSON object (one record), a JSON array (one per element) or
 * JSON lines. The content type decides; without a JSON or NDJSON type the body is sniffed.
 * Throws INVALID_INPUT (a 400) for anything malformed, so a request is taken whole or not at all.
 */
export function parseBody(body: Buffer, contentType: string | undefined, positionOf: (index: number) => number): BodyRecords {
  const type = mediaType(contentType);
  if (NDJSON_TYPES.has(type)) {
    const records = parseLines(body, positionOf);
    // Every line blank: the body is only whitespace.
    if (records.count === 0) throw emptyBody();
    return records;
  }
  const text = body.toString('utf8');
  if (text.trim() === '') throw emptyBody();
  if (isJsonType(type)) return parseDocument(text, positionOf);
  const start = text.trimStart();
  if (start.startsWith('[')) return parseDocument(text, positionOf);
  try {
    return new DocumentRecords(fromDocument(JSON.parse(text), positionOf));
  } catch (err) {
    if (err instanceof WireError) throw err;
    return parseLines(body, positionOf);
  }
}
