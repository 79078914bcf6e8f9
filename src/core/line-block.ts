import { WireError } from './errors.js';
import { LineDecoder, type LineHandler } from './lines.js';
import { WireRecord, type Batch, type Position } from './record.js';

/**
 * How a line of text becomes a record, and a record a line: `jsonl` (one JSON value per line, parsed
 * lazily, blank lines skipped) or `lines` (each line is a string record).
 */
export type LineFormat = 'jsonl' | 'lines';

/**
 * Whole lines of one format moved as bytes: the engine's fast path between a line-oriented source and a
 * line-oriented sink. `data` holds complete lines, each ending in `\n`; it may be a view sharing its
 * ArrayBuffer with other blocks (whoever moves it to another thread copies it first), and nobody writes to
 * it once handed out. `position` is the source position just after the last line.
 */
export interface LineBlock {
  readonly data: Uint8Array;
  readonly position: Position;
  readonly format: LineFormat;
  /** jsonl: parse each line as it is cut (see the file source's `strict`). */
  readonly strict?: boolean;
}

const NEWLINE = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;

/** A jsonl line with nothing but whitespace carries no record. */
export function isBlankLine(line: string): boolean {
  if (line.length === 0) return true;
  const c = line.charCodeAt(0);
  return (c === SPACE || c === TAB) && line.trim() === '';
}

/** The per-line step of a line source: makes the line's record (or none, for a blank jsonl line) and hands it on. */
export function lineRecords(
  format: LineFormat,
  strict: boolean,
  push: (record: WireRecord) => void,
  positionOf: (end: number) => Position | undefined,
): LineHandler {
  if (format === 'lines') return (line, end) => push(WireRecord.fromText(line, positionOf(end)));
  if (strict) {
    return (line, end) => {
      if (isBlankLine(line)) return;
      const record = WireRecord.fromRaw(line, positionOf(end));
      try {
        void record.value;
      } catch {
        // Not lost: the record stays unparsed, so its value getter throws this same error at the first stage.
      }
      push(record);
    };
  }
  return (line, end) => {
    if (!isBlankLine(line)) push(WireRecord.fromRaw(line, positionOf(end)));
  };
}

const noPosition = (): undefined => undefined;

/** The records a block's lines stand for (without per-record positions: the block's position covers them). */
export function recordsOf(block: LineBlock): Batch {
  const out: Batch = [];
  const data = block.data;
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  new LineDecoder(0).push(bytes, 0, bytes.length, lineRecords(block.format, block.strict === true, (r) => out.push(r), noPosition));
  return out;
}

/**
 * The block as the given sink format would write its records, when that needs no parsing: jsonl read and
 * written as jsonl or lines (an unchanged record is written as read), or lines as lines. `undefined` when the
 * formats differ in a way only records can express (lines written as jsonl are quoted).
 */
export function passThrough(block: LineBlock, out: LineFormat): { data: Uint8Array; count: number } | undefined {
  if (block.format === 'lines' && out !== 'lines') return undefined;
  const data = block.data;
  const jsonl = block.format === 'jsonl';
  let count = 0;
  let pos = 0;
  const n = data.length;
  while (pos < n) {
    const nl = data.indexOf(NEWLINE, pos);
    if (nl < 0) throw new WireError('INTERNAL', 'line block does not end with a newline');
    // A CR before the newline, or a blank jsonl line, is not written as read: let records say what is.
    if (nl > pos && data[nl - 1] === CR) return viaRecords(block, out);
    if (jsonl && (nl === pos || data[pos] === SPACE || data[pos] === TAB)) return viaRecords(block, out);
    count++;
    pos = nl + 1;
  }
  return { data, count };
}

function viaRecords(block: LineBlock, out: LineFormat): { data: Uint8Array; count: number } {
  const records = recordsOf(block);
  return { data: renderLines(records, out), count: records.length };
}

/** Strings are built up to this many characters before being encoded: V8 handles longer ones far slower. */
const PIECE_CHARS = 64 * 1024;

/**
 * Renders records as lines of `format` into one Buffer that owns its memory (never a slice of Node's shared
 * pool, so it can be transferred to another thread). jsonl: each record's JSON; lines: its text.
 */
export function renderLines(records: Batch, format: LineFormat): Buffer {
  const pieces: string[] = [];
  let piece = '';
  if (format === 'jsonl') {
    for (const record of records) {
      piece += record.json() + '\n';
      if (piece.length >= PIECE_CHARS) {
        pieces.push(piece);
        piece = '';
      }
    }
  } else {
    for (const record of records) {
      piece += record.text() + '\n';
      if (piece.length >= PIECE_CHARS) {
        pieces.push(piece);
        piece = '';
      }
    }
  }
  if (piece.length > 0) pieces.push(piece);
  return encodePieces(pieces);
}

/** One owned Buffer holding the UTF-8 of every piece, in order. */
export function encodePieces(pieces: readonly string[]): Buffer {
  let total = 0;
  const sizes = new Array<number>(pieces.length);
  for (let i = 0; i < pieces.length; i++) total += sizes[i] = Buffer.byteLength(pieces[i]!, 'utf8');
  const out = Buffer.allocUnsafeSlow(total);
  let offset = 0;
  for (let i = 0; i < pieces.length; i++) offset += out.write(pieces[i]!, offset, sizes[i]!, 'utf8');
  return out;
}
