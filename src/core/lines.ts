import { isUtf8 } from 'node:buffer';
import { WireError } from './errors.js';
import { jsonLineError, utf8LineError } from './json-scan.js';

/** A line its check refused: why, and its bytes as read (its text may have lost some to U+FFFD). */
export interface RefusedLine {
  readonly error: WireError;
  readonly bytes: Uint8Array;
}

/**
 * Receives one line (without its `\n` or `\r\n`) and the byte offset just after its newline; `refused` when the
 * decoder's check turned the line down.
 */
export type LineHandler = (line: string, end: number, refused?: RefusedLine) => void;

/** What every line must be: one JSON value (`json`, which implies UTF-8), valid UTF-8 (`utf8`), or anything. */
export type LineCheck = 'json' | 'utf8' | undefined;

/** A line longer than this is a broken input, not data: it is skipped, not held, and goes to the dead letter. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;
/** What a dead letter keeps of a line too long to hold: its first bytes. */
export const LONG_LINE_KEPT_BYTES = 1024;

/** A line too long to hold (`bytes` long, without its newline), as its dead letter keeps it: its first bytes. */
export function longLine(bytes: number, first: Uint8Array): RefusedLine {
  const error = new WireError('INVALID_INPUT', `line of ${bytes} bytes is longer than ${MAX_LINE_BYTES} bytes (its first ${first.length} are kept)`, {
    bytes,
    maxBytes: MAX_LINE_BYTES,
  });
  return { error, bytes: first };
}

/** The first LONG_LINE_KEPT_BYTES of `parts`, in order, in memory of their own. */
export function firstBytes(parts: readonly Uint8Array[]): Uint8Array {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(Math.min(total, LONG_LINE_KEPT_BYTES));
  let at = 0;
  for (const part of parts) {
    if (at === out.length) break;
    const take = Math.min(part.length, out.length - at);
    out.set(part.subarray(0, take), at);
    at += take;
  }
  return out;
}

const NEWLINE = 10;
const CR = 13;

/**
 * Splits a stream of byte chunks into lines, tracking each line's end offset in bytes so a source can
 * resume exactly after it. Chunks may come from a reused buffer: the unfinished tail is copied.
 * ASCII regions (the common case) are decoded once and split as a string; others are split on bytes
 * so offsets stay exact whatever the text holds.
 */
export class LineDecoder {
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private offset: number;
  /** A line past MAX_LINE_BYTES being skipped to its newline: its first bytes and its length so far. */
  private long: { first: Uint8Array; bytes: number } | undefined;

  constructor(
    startOffset = 0,
    private readonly check: LineCheck = undefined,
  ) {
    this.offset = startOffset;
  }

  /** The byte offset just after the last complete line handed out. */
  get position(): number {
    return this.offset;
  }

  /** Bytes of an unfinished line held back until its newline arrives. */
  get pendingBytes(): number {
    return this.carryBytes;
  }

  push(chunk: Buffer, start: number, end: number, emit: LineHandler): void {
    if (end <= start) return;
    if (this.carryBytes > 0) {
      const nl = chunk.indexOf(NEWLINE, start);
      // The held line ends here, longer than the limit: skipped like one that grew past it.
      if (nl >= 0 && nl < end && this.carryBytes + nl - start > MAX_LINE_BYTES) this.skipHeld(chunk.subarray(start, nl));
    }
    const long = this.long;
    if (long !== undefined) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl < 0 || nl >= end) {
        long.bytes += end - start;
        return;
      }
      long.bytes += nl - start;
      this.endLong(1, emit);
      start = nl + 1;
      if (start >= end) return;
    }
    const last = chunk.lastIndexOf(NEWLINE, end - 1);
    if (last < start) {
      this.hold(chunk, start, end);
      return;
    }
    let region: Buffer;
    if (this.carryBytes > 0) {
      this.carry.push(chunk.subarray(start, last + 1));
      region = Buffer.concat(this.carry, this.carryBytes + last + 1 - start);
      this.carry = [];
      this.carryBytes = 0;
    } else {
      region = chunk.subarray(start, last + 1);
    }
    if (last + 1 < end) this.hold(chunk, last + 1, end);
    this.split(region, emit);
  }

  /** Hands out the unfinished last line (an input may end without a newline). */
  end(emit: LineHandler): void {
    if (this.long !== undefined) return this.endLong(0, emit);
    if (this.carryBytes === 0) return;
    const tail = Buffer.concat(this.carry, this.carryBytes);
    this.carry = [];
    this.carryBytes = 0;
    let stop = tail.length;
    if (stop > 0 && tail[stop - 1] === CR) stop--;
    this.offset += tail.length;
    this.emitChecked(tail, 0, stop, this.offset, emit);
  }

  /** Hands out the line `bytes[start, stop)` (any check applied), which ends at input offset `end`. */
  private emitChecked(bytes: Buffer, start: number, stop: number, end: number, emit: LineHandler): void {
    const error = this.errorOf(bytes, start, stop);
    if (error === undefined) emit(bytes.toString('utf8', start, stop), end);
    else emit(bytes.toString('utf8', start, stop), end, { error, bytes: Uint8Array.prototype.slice.call(bytes, start, stop) });
  }

  private errorOf(bytes: Uint8Array, start: number, stop: number): WireError | undefined {
    if (this.check === 'json') return isBlank(bytes, start, stop) ? undefined : jsonLineError(bytes, start, stop);
    return this.check === 'utf8' ? utf8LineError(bytes, start, stop) : undefined;
  }

  private hold(chunk: Buffer, start: number, end: number): void {
    this.carryBytes += end - start;
    // Copy: the caller reuses its read buffer for the next chunk.
    this.carry.push(Buffer.from(chunk.subarray(start, end)));
    if (this.carryBytes > MAX_LINE_BYTES) this.skipHeld();
  }

  /**
   * The held line is too long to hold: skipped to its newline, keeping its first bytes (`more` follow the held ones)
   * for the dead letter.
   */
  private skipHeld(more?: Buffer): void {
    this.long = { first: firstBytes(more === undefined ? this.carry : [...this.carry, more]), bytes: this.carryBytes };
    this.carry = [];
    this.carryBytes = 0;
  }

  /** Hands out the line being skipped as refused; `newline`: 1 when it ended with one, 0 at the input's end. */
  private endLong(newline: number, emit: LineHandler): void {
    const { first, bytes } = this.long!;
    this.long = undefined;
    this.offset += bytes + newline;
    emit(Buffer.from(first.buffer, first.byteOffset, first.length).toString('utf8'), this.offset, longLine(bytes, first));
  }

  private split(region: Buffer, emit: LineHandler): void {
    const text = region.toString('utf8');
    // As many characters as bytes: ASCII, or invalid bytes each decoded as U+FFFD, which a check must see.
    if (text.length === region.length && (this.check !== 'utf8' || isUtf8(region))) {
      this.splitAscii(text, region, emit);
      return;
    }
    let pos = 0;
    let base = this.offset;
    while (pos < region.length) {
      const nl = region.indexOf(NEWLINE, pos);
      const stop = nl > pos && region[nl - 1] === CR ? nl - 1 : nl;
      this.emitChecked(region, pos, stop, base + nl + 1, emit);
      pos = nl + 1;
    }
    base += region.length;
    this.offset = base;
  }

  /** `region` has one byte per character, so its text's offsets are its bytes' too (a json check reads the bytes). */
  private splitAscii(text: string, region: Buffer, emit: LineHandler): void {
    const base = this.offset;
    const json = this.check === 'json';
    let pos = 0;
    const n = text.length;
    while (pos < n) {
      const nl = text.indexOf('\n', pos);
      const stop = nl > pos && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
      const error = json && !isBlank(region, pos, stop) ? jsonLineError(region, pos, stop) : undefined;
      if (error === undefined) emit(text.slice(pos, stop), base + nl + 1);
      else emit(text.slice(pos, stop), base + nl + 1, { error, bytes: Uint8Array.prototype.slice.call(region, pos, stop) });
      pos = nl + 1;
    }
    this.offset = base + n;
  }
}

/** A line of nothing but spaces and tabs (or nothing) carries no jsonl record: it is skipped, never checked. */
function isBlank(bytes: Uint8Array, start: number, stop: number): boolean {
  for (let i = start; i < stop; i++) {
    const c = bytes[i];
    if (c !== 0x20 && c !== 0x09) return false;
  }
  return true;
}
