import { isUtf8 } from 'node:buffer';
import { WireError } from './errors.js';
import { MAX_DEPTH, jsonLineError, scanJson } from './json-scan.js';
import { LineDecoder, type LineCheck, type LineHandler, type RefusedLine } from './lines.js';
import { WireRecord, type Batch, type Position } from './record.js';

/**
 * How a line of text becomes a record, and a record a line: `jsonl` (one JSON value per line, parsed
 * lazily, blank lines skipped) or `lines` (each line is a string record).
 */
export type LineFormat = 'jsonl' | 'lines';

/**
 * Whole lines of one format moved as bytes: the engine's fast path between a line-oriented source and a
 * line-oriented sink. `data` holds complete lines, each ending in `\n`, and owns its ArrayBuffer: nothing
 * else reads or writes any byte of that buffer once the block is handed out, so the engine may transfer the
 * buffer to another thread. `position` is the source position just after the last line.
 */
export interface LineBlock {
  readonly data: Uint8Array;
  readonly position: Position;
  readonly format: LineFormat;
  /** jsonl: parse each line as it is cut (see the file source's `strict`). */
  readonly strict?: boolean;
  /**
   * Hands the block's memory back to the source to read into again. Call it once, when nothing reads `data`
   * any more (after the block's records were made, or after the sink wrote `data` itself). If `data`'s buffer
   * went to another thread, call it only with the view that thread sent back (`back`), whose buffer is the
   * same memory. Absent when the source does not reuse memory.
   */
  readonly release?: (back?: Uint8Array) => void;
  /** A line before `data`'s the source skipped as longer than MAX_LINE_BYTES: a record for the dead letter. */
  readonly longLine?: RefusedLine;
  /**
   * The source position just after the line whose end (past its newline) is at byte `end` of `data`: where a record
   * the engine dead-letters came from. Called only for those, on the thread that read the block.
   */
  readonly lineEnd?: (end: number) => Position;
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

/**
 * What the decoder checks of each line of a format: jsonl lines are scanned as JSON, unless they are parsed as they
 * are cut (`parse`: see `lineRecords`), text lines are checked as UTF-8.
 */
export function lineCheckOf(format: LineFormat, parse = false): LineCheck {
  return format === 'jsonl' && !parse ? 'json' : 'utf8';
}

/**
 * A jsonl line of valid UTF-8 parsed now: its record, or an unreadable one with the error the scanner gives on
 * every other path. Where values are read anyway (transforms), parsing checks a line for the price of the scan.
 */
function parsedLine(line: string, position: Position | undefined): WireRecord {
  const record = WireRecord.fromRaw(line, position);
  let parsed = true;
  try {
    void record.value;
  } catch {
    parsed = false;
  }
  // Nesting past MAX_DEPTH takes more than 2 × MAX_DEPTH characters: a shorter line that parses is valid.
  if (parsed && line.length <= 2 * MAX_DEPTH) return record;
  // Rare: a malformed line, or one long enough to nest too deep. The scanner words the error, as on every path.
  const bytes = Buffer.from(line, 'utf8');
  const error = jsonLineError(bytes, 0, bytes.length);
  return error === undefined ? record : WireRecord.unreadableLine(bytes, error, position);
}

/**
 * The per-line step of a line source: makes the line's record (or none, for a blank jsonl line) and hands it on.
 * A line its decoder refused (see `lineCheckOf`) becomes an unreadable record carrying its error and bytes.
 */
export function lineRecords(
  format: LineFormat,
  strict: boolean,
  push: (record: WireRecord) => void,
  positionOf: (end: number) => Position | undefined,
): LineHandler {
  if (format === 'lines') {
    return (line, end, refused) =>
      push(refused === undefined ? WireRecord.fromText(line, positionOf(end)) : WireRecord.unreadableLine(refused.bytes, refused.error, positionOf(end)));
  }
  if (strict) {
    // Decoded with a check of UTF-8 only (lineCheckOf(format, true)): parsing checks the rest.
    return (line, end, refused) => {
      if (isBlankLine(line)) return;
      push(refused === undefined ? parsedLine(line, positionOf(end)) : WireRecord.unreadableLine(refused.bytes, refused.error, positionOf(end)));
    };
  }
  return (line, end, refused) => {
    if (isBlankLine(line)) return;
    push(refused === undefined ? WireRecord.fromRaw(line, positionOf(end)) : WireRecord.unreadableLine(refused.bytes, refused.error, positionOf(end)));
  };
}

const noPosition = (): undefined => undefined;

/**
 * Strings are kept under this many characters: V8 handles longer ones (its large-object space) far slower,
 * so a block is decoded, transformed and rendered in pieces of at most this many bytes, cut at newlines.
 */
export const PIECE_BYTES = 64 * 1024;

/** Cuts newline-terminated `data` into pieces of at most `max` bytes at newlines (a longer line is a piece of its own). */
export function piecesOf(data: Uint8Array, max = PIECE_BYTES): Uint8Array[] {
  if (data.length <= max) return [data];
  const out: Uint8Array[] = [];
  const last = data.length - 1;
  for (let from = 0; from <= last; ) {
    let cut = from + max > last ? last : data.lastIndexOf(NEWLINE, from + max - 1);
    if (cut < from) cut = data.indexOf(NEWLINE, from + max);
    out.push(data.subarray(from, cut + 1));
    from = cut + 1;
  }
  return out;
}

/**
 * The records a block's lines stand for. The block's position covers them all, so they have none of their own,
 * unless `at` says where `block.data` starts in the block it was cut from: then each record's position is the end of
 * its line in that block (see `LineBlock.lineEnd`), so a record that is dead-lettered can be located.
 * `parse`: jsonl values are parsed now (they are about to be read), which checks them (see `lineRecords`).
 */
export function recordsOf(block: LineBlock, parse = block.strict === true, at?: number): Batch {
  const out: Batch = [];
  const push = (r: WireRecord): number => out.push(r);
  const unplaced = lineRecords(block.format, parse, push, noPosition);
  const check = lineCheckOf(block.format, parse);
  const data = block.data;
  for (const piece of piecesOf(data)) {
    const bytes = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    const base = at === undefined ? 0 : at + piece.byteOffset - data.byteOffset;
    const handler = at === undefined ? unplaced : lineRecords(block.format, parse, push, (end) => base + end);
    new LineDecoder(0, check).push(bytes, 0, bytes.length, handler);
  }
  return out;
}

/**
 * The block as the given sink format would write its records, when that needs no records: jsonl read and written
 * as jsonl or lines (an unchanged record is written as read), or lines as lines, every line valid (one JSON value;
 * UTF-8). `undefined` when some line needs records to say what it is: a blank jsonl line, a CR before a newline,
 * a line that is not valid, or lines written as jsonl (quoted).
 */
export function passThrough(block: LineBlock, out: LineFormat): { chunks: Uint8Array[]; count: number } | undefined {
  if (block.format === 'lines') {
    if (out !== 'lines') return undefined;
    return isUtf8(block.data) ? passLines(block.data) : undefined;
  }
  const data = block.data;
  let count = 0;
  let pos = 0;
  const n = data.length;
  while (pos < n) {
    const nl = data.indexOf(NEWLINE, pos);
    if (nl < 0) throw new WireError('INTERNAL', 'line block does not end with a newline');
    if (nl === pos || data[nl - 1] === CR || data[pos] === SPACE || data[pos] === TAB) return undefined;
    if (scanJson(data, pos, nl) !== 0) return undefined;
    count++;
    pos = nl + 1;
  }
  return { chunks: [data], count };
}

/** Lines of text as read: one record per line, none changed. */
function passLines(data: Uint8Array): { chunks: Uint8Array[]; count: number } | undefined {
  let count = 0;
  for (let pos = 0; pos < data.length; count++) {
    const nl = data.indexOf(NEWLINE, pos);
    if (nl < 0) throw new WireError('INTERNAL', 'line block does not end with a newline');
    if (nl > pos && data[nl - 1] === CR) return undefined;
    pos = nl + 1;
  }
  return { chunks: [data], count };
}

/**
 * Renders records as lines of `format` into one Buffer that owns its memory (never a slice of Node's shared
 * pool, so it can be transferred to another thread). jsonl: each record's JSON; lines: its text. The text is
 * built in strings of about PIECE_BYTES characters, each encoded on its own.
 */
export function renderLines(records: Batch, format: LineFormat, buffers?: RenderBuffers): Buffer {
  const pieces: string[] = [];
  let piece = '';
  if (format === 'jsonl') {
    for (const record of records) {
      piece += record.json() + '\n';
      if (piece.length >= PIECE_BYTES) {
        pieces.push(piece);
        piece = '';
      }
    }
  } else {
    for (const record of records) {
      piece += record.text() + '\n';
      if (piece.length >= PIECE_BYTES) {
        pieces.push(piece);
        piece = '';
      }
    }
  }
  if (piece.length > 0) pieces.push(piece);
  return encodePieces(pieces, buffers);
}

/** One owned Buffer holding the UTF-8 of every piece, in order: from `buffers` when given and it fits. */
export function encodePieces(pieces: readonly string[], buffers?: RenderBuffers): Buffer {
  let total = 0;
  const sizes = new Array<number>(pieces.length);
  for (let i = 0; i < pieces.length; i++) total += sizes[i] = Buffer.byteLength(pieces[i]!, 'utf8');
  const out = buffers === undefined ? Buffer.allocUnsafeSlow(total) : buffers.take(total);
  let offset = 0;
  for (let i = 0; i < pieces.length; i++) offset += out.write(pieces[i]!, offset, sizes[i]!, 'utf8');
  return out;
}

/**
 * Memory to render lines into, used again once the sink has written it: fresh memory for every piece costs page
 * faults and, as external memory, more garbage collections. One thread's: a buffer sent to another thread is
 * gone (it never comes back with the same size as a spare, so `give` drops it).
 */
export class RenderBuffers {
  private readonly spare: Buffer[] = [];

  /** `size`: each spare's bytes (a larger render gets memory of its own); `keep`: at most this many spares. */
  constructor(
    private readonly size = 2 * PIECE_BYTES,
    private readonly keep = 64,
  ) {}

  /** `bytes` of memory that nothing else uses until it is given back. */
  take(bytes: number): Buffer {
    if (bytes > this.size) return Buffer.allocUnsafeSlow(bytes);
    return (this.spare.pop() ?? Buffer.allocUnsafeSlow(this.size)).subarray(0, bytes);
  }

  /** Takes back a chunk `take` made, once nothing reads it; anything else is left to the garbage collector. */
  give(chunk: Uint8Array): void {
    const memory = chunk.buffer;
    if (memory.byteLength !== this.size || chunk.byteOffset !== 0 || this.spare.length >= this.keep) return;
    this.spare.push(Buffer.from(memory, 0, this.size));
  }

  giveAll(chunks: readonly Uint8Array[]): void {
    for (const chunk of chunks) this.give(chunk);
  }
}
