import { WireError, type ErrorCode } from '../core/errors.js';
import { WireRecord, type Batch, type Headers, type Position } from '../core/record.js';
import { asRead } from './record-checks.js';

/** How a record's text is to be read back, so a record keeps its nature across the thread boundary. */
const enum Kind {
  /** JSON text, parsed lazily on the other side (unchanged raw, or a changed non-string value). */
  Json = 0,
  /** A plain-text line (format: lines): the value is the text itself. */
  Line = 1,
  /** A changed value that is a string: sent as the string, not as quoted JSON. */
  Text = 2,
}

/**
 * A batch as it crosses to or from a worker thread: every record's text in one string plus typed arrays
 * of lengths and kinds (transferred, not copied), and ids / keys / event times / headers only when some
 * record has them (an id is made lazily: one nobody has read yet need not cross). One structured clone per
 * batch instead of one object graph per record.
 */
export interface EncodedBatch {
  readonly text: string;
  readonly lengths: Uint32Array;
  readonly kinds: Uint8Array;
  readonly ids?: (string | null)[];
  readonly keys?: (string | null)[];
  readonly eventTimes?: Float64Array;
  readonly headers?: (Headers | null)[];
  /** For records their source could not read (rejected, on their way to the dead letter): their bytes and error. */
  readonly unreadable?: (Unreadable | null)[];
  /** Source positions, so the engine can tell a source what became of each record (`Source.outcome`). */
  readonly positions?: (Position | undefined)[];
}

interface Unreadable {
  readonly bytes: Uint8Array;
  readonly message: string;
  readonly code: ErrorCode;
}

const decoder = new TextDecoder();

export function encodeBatch(batch: Batch): EncodedBatch {
  const n = batch.length;
  const lengths = new Uint32Array(n);
  const kinds = new Uint8Array(n);
  let ids: (string | null)[] | undefined;
  let keys: (string | null)[] | undefined;
  let eventTimes: Float64Array | undefined;
  let headers: (Headers | null)[] | undefined;
  let unreadable: (Unreadable | null)[] | undefined;
  let positions: (Position | undefined)[] | undefined;
  let text = '';
  for (let i = 0; i < n; i++) {
    const record = batch[i]!;
    const raw = record.raw;
    let part: string;
    if (raw !== undefined) {
      // A lines record is the only kind whose raw text equals its (already parsed) string value.
      if (typeof raw === 'string' && record.parsed && record.value === raw) kinds[i] = Kind.Line;
      part = typeof raw === 'string' ? raw : decoder.decode(raw);
    } else {
      const value = record.value;
      if (typeof value === 'string') {
        kinds[i] = Kind.Text;
        part = value;
      } else {
        part = jsonOrAsRead(record, kinds, i);
      }
    }
    lengths[i] = part.length;
    text += part;
    const id = record.assignedId;
    if (id !== undefined) (ids ??= new Array<string | null>(n).fill(null))[i] = id;
    if (record.key !== undefined) (keys ??= new Array<string | null>(n).fill(null))[i] = record.key;
    if (record.eventTime !== undefined) (eventTimes ??= new Float64Array(n).fill(NaN))[i] = record.eventTime;
    if (record.headers !== undefined) (headers ??= new Array<Headers | null>(n).fill(null))[i] = record.headers;
    const error = record.unreadable;
    const origin = record.origin;
    if (error !== undefined && origin !== undefined) {
      const bytes = typeof origin === 'string' ? Buffer.from(origin) : origin;
      (unreadable ??= new Array<Unreadable | null>(n).fill(null))[i] = { bytes, message: error.message, code: error.code };
    }
    if (record.position !== undefined) (positions ??= new Array<Position | undefined>(n))[i] = record.position;
  }
  const encoded: { -readonly [K in keyof EncodedBatch]: EncodedBatch[K] } = { text, lengths, kinds };
  if (ids !== undefined) encoded.ids = ids;
  if (keys !== undefined) encoded.keys = keys;
  if (eventTimes !== undefined) encoded.eventTimes = eventTimes;
  if (headers !== undefined) encoded.headers = headers;
  if (unreadable !== undefined) encoded.unreadable = unreadable;
  if (positions !== undefined) encoded.positions = positions;
  return encoded;
}

/**
 * A changed record's value as JSON; for one JSON cannot hold (a transform rejected it, so it goes to the dead-letter
 * sink), the record as its source read it, as the main thread's dead letter would keep it.
 */
function jsonOrAsRead(record: WireRecord, kinds: Uint8Array, i: number): string {
  try {
    return record.json();
  } catch {
    const read = asRead(record);
    const raw = read.raw;
    if (raw === undefined) return read.json();
    if (read.parsed) kinds[i] = Kind.Line;
    return typeof raw === 'string' ? raw : decoder.decode(raw);
  }
}

export function decodeBatch(encoded: EncodedBatch): Batch {
  const { text, lengths, kinds, ids, keys, eventTimes, headers, unreadable, positions } = encoded;
  const n = lengths.length;
  const batch: Batch = new Array<WireRecord>(n);
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const end = offset + lengths[i]!;
    const part = text.slice(offset, end);
    offset = end;
    const kind = kinds[i];
    const lost = unreadable?.[i];
    const record =
      lost !== undefined && lost !== null
        ? WireRecord.unreadableLine(lost.bytes, new WireError(lost.code, lost.message))
        : kind === Kind.Line
          ? WireRecord.fromText(part)
          : kind === Kind.Text
            ? WireRecord.fromValue(part)
            : WireRecord.fromRaw(part);
    const id = ids?.[i];
    if (id !== undefined && id !== null) record.id = id;
    const key = keys?.[i];
    if (key !== undefined && key !== null) record.key = key;
    const eventTime = eventTimes?.[i];
    if (eventTime !== undefined && !Number.isNaN(eventTime)) record.eventTime = eventTime;
    const h = headers?.[i];
    if (h !== undefined && h !== null) record.headers = h;
    const position = positions?.[i];
    if (position !== undefined) record.position = position;
    batch[i] = record;
  }
  return batch;
}

/** The typed arrays' buffers, to transfer rather than copy. */
export function transferablesOf(encoded: EncodedBatch): ArrayBuffer[] {
  const out: ArrayBuffer[] = [encoded.lengths.buffer as ArrayBuffer, encoded.kinds.buffer as ArrayBuffer];
  if (encoded.eventTimes !== undefined) out.push(encoded.eventTimes.buffer as ArrayBuffer);
  return out;
}
