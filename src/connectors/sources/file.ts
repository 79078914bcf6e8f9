import { isUtf8 } from 'node:buffer';
import { open as openFile, readFile, stat, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { WireError } from '../../core/errors.js';
import type { ComponentDefinition, ConfigProblem, Source, SourceLocation, SourceOpenOptions, SourcePartition, SourceProgress } from '../../core/ports.js';
import { WireRecord, type Batch, type Position } from '../../core/record.js';
import { resolveConfig } from '../config.js';
import { BatchBuilder } from '../batch-builder.js';
import { CsvRecordParser, isBlankRow, rowToObject } from '../file/csv.js';
import { expandGlob, isGlob } from '../file/glob.js';
import { lineCheckOf, lineRecords, type LineBlock } from '../../core/line-block.js';
import { LineDecoder, MAX_LINE_BYTES, firstBytes, longLine, type LineHandler, type RefusedLine } from '../../core/lines.js';
import { fileOffsetOf, parseFilePosition, planRead, type FilePosition } from '../file/position.js';
import { LineLocator } from '../file/locate.js';

export const FileSourceSchema = Type.Object(
  {
    path: Type.String({
      minLength: 1,
      // Through the API, only under the node's --allow-path roots (security/confine.ts).
      'x-wire-confine': 'path',
      description:
        'A file, or a glob (`*`, `?`, `**`) naming several files; they are read one after another in sorted path order. ' +
        'A checkpoint remembers each file read to its end: a rerun reads the files that appeared since, whatever their names, and not those again. ' +
        'In a cluster a glob is one task per file it matches when the tasks are made (a glob that follows stays one task).',
    }),
    format: Type.Union([Type.Literal('jsonl'), Type.Literal('lines'), Type.Literal('csv'), Type.Literal('json')], {
      default: 'jsonl',
      description:
        'jsonl: one JSON value per line, parsed lazily (blank lines skipped). lines: each line is a string record. ' +
        'Every jsonl line is checked as JSON and every lines or csv line as UTF-8, whatever the pipeline does with it: a line (csv: ' +
        'its row) that fails, nests deeper than 1000 levels or is longer than 64 MiB goes to the dead-letter sink with its error ' +
        '(stage `source`). ' +
        'csv: the header row names the fields of each later row (RFC 4180 quoting; values stay strings). ' +
        'json: the file is one JSON array, read whole; each element is a record.',
    }),
    follow: Type.Boolean({
      default: false,
      description:
        'After the end, keep reading lines appended to the file until the pipeline stops (like `tail -F`). ' +
        'A truncated or replaced file is read again from its start; with a glob, new matching files are picked up, whatever their names. ' +
        'A last line without a newline is held back until its newline arrives.',
    }),
    poll_interval: Type.Integer({
      minimum: 10,
      default: 250,
      description: 'Milliseconds between checks for appended data when `follow` is on.',
    }),
    encoding: Type.Literal('utf8', { default: 'utf8', description: 'Text encoding of the file.' }),
    strict: Type.Boolean({
      default: false,
      description:
        'jsonl only: parse every line into its value as it is read instead of when a transform first reads it. ' +
        'Lines are checked as JSON either way (see format).',
    }),
  },
  { additionalProperties: false },
);

export type FileSourceConfig = Static<typeof FileSourceSchema>;

const CHUNK_BYTES = 64 * 1024;
/** The block path reads this much per call and per block (the engine works on it in 64 KiB pieces). */
const READ_BYTES = 256 * 1024;
/** Read buffers handed back by the engine are reused (fresh memory costs a page fault per 4 KiB); this many at most. */
const SPARE_BUFFERS = 8;
/** The size of a reusable read buffer: a read and an unfinished line of up to 64 KiB before it. */
const SPARE_BYTES = READ_BYTES + 64 * 1024;

/**
 * Reads records from one file or a sorted set of files. Lines are cut by hand from 64 KiB reads into
 * one reused buffer (one await per chunk, never per line). Each record's position is the byte offset
 * just after its line, so `open({ from })` resumes exactly after the last acknowledged line.
 */
export class FileSource implements Source {
  private readonly buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  /** Block buffers the engine is done with, to read into again. */
  private readonly spare: Buffer[] = [];
  private readonly multi: boolean;
  /** The files this run reads, in order: the checkpointed one first, then every other one not read before. */
  private files: string[] = [];
  /** Where each file is in `files`: every file before it was read to its end before its first record. */
  private readonly order = new Map<string, number>();
  /** Files earlier runs read to their end. */
  private done: readonly string[] = [];
  private start = { index: 0, offset: 0 };
  private signal: AbortSignal = new AbortController().signal;
  private handle: FileHandle | undefined;
  private doneBefore = 0;
  private current = 0;
  private total = 0;
  private closed = false;
  private readonly lineLocator = new LineLocator();

  constructor(private readonly config: FileSourceConfig) {
    this.multi = isGlob(config.path);
  }

  async open(options: SourceOpenOptions): Promise<void> {
    this.signal = options.signal;
    const listing = await this.discover();
    if (listing.length === 0 && !this.config.follow) {
      throw new WireError('NOT_FOUND', `file source: no file matches ${this.config.path}`, { path: this.config.path });
    }
    const plan = planRead(listing, parseFilePosition(options.from));
    this.files = plan.queue;
    this.files.forEach((f, i) => this.order.set(f, i));
    this.done = plan.done;
    this.start = { index: 0, offset: plan.offset };
    const sizeOf = (f: string): Promise<number> => stat(f).then((s) => s.size);
    const [queued, done] = await Promise.all([Promise.all(this.files.map(sizeOf)), Promise.all(plan.done.map(sizeOf))]);
    this.doneBefore = done.reduce((a, b) => a + b, 0);
    this.total = queued.reduce((a, b) => a + b, this.doneBefore);
    this.current = this.start.offset;
  }

  async *read(maxRecords: number): AsyncIterable<Batch> {
    const limit = Math.max(1, Math.floor(maxRecords));
    let { index, offset } = this.start;
    while (!this.closed && !this.signal.aborted) {
      if (index >= this.files.length) {
        if (!this.config.follow) return;
        if (!(await this.pause())) return;
        await this.discoverNewer();
        continue;
      }
      const file = this.files[index]!;
      const tail = this.config.follow && index === this.files.length - 1;
      if (this.config.format === 'json') yield* this.readJson(file, offset, limit);
      else yield* this.readLines(file, offset, limit, tail);
      if (this.signal.aborted || this.closed) return;
      this.doneBefore += this.current;
      this.current = 0;
      index++;
      offset = 0;
    }
  }

  /** Blocks of whole lines for jsonl and lines files read to their end (not csv, json or follow). */
  blocks(): AsyncIterable<LineBlock> | undefined {
    const { format, follow } = this.config;
    if (follow || (format !== 'jsonl' && format !== 'lines')) return undefined;
    return this.readBlocks(format);
  }

  /**
   * Where dead-lettered records are: `{ file, line }` (the line a record ends on; for csv, a row's last line), or
   * `{ file, index }` for `format: json` (the element's index in the array, from 0).
   */
  async locate(positions: readonly (Position | undefined)[]): Promise<(SourceLocation | undefined)[]> {
    const out = new Array<SourceLocation | undefined>(positions.length).fill(undefined);
    const byFile = new Map<string, { at: number; end: number }[]>();
    for (let at = 0; at < positions.length; at++) {
      const p = positions[at];
      const where = typeof p === 'number' ? { file: this.config.path, offset: p } : fileOffsetOf(p);
      if (where === undefined) continue;
      if (this.config.format === 'json') {
        out[at] = { file: where.file, index: where.offset - 1 };
        continue;
      }
      const list = byFile.get(where.file) ?? [];
      list.push({ at, end: where.offset });
      byFile.set(where.file, list);
    }
    for (const [file, list] of byFile) {
      const lines = await this.lineLocator.lines(file, list.map((e) => e.end));
      for (let k = 0; k < list.length; k++) {
        const line = lines[k];
        out[list[k]!.at] = line === undefined ? { file, offset: list[k]!.end } : { file, line };
      }
    }
    return out;
  }

  /** Positions live in the engine's checkpoint store; a file has nothing upstream to commit. */
  async ack(_position: Position): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
    const handle = this.handle;
    this.handle = undefined;
    if (handle !== undefined && handle.fd !== -1) await handle.close();
  }

  progress(): SourceProgress {
    const done = this.doneBefore + this.current;
    return { done, total: Math.max(this.total, done), unit: 'bytes' };
  }

  /** Chosen once per file, so the per-line path does not test for globs. */
  private positions(file: string): (offset: number) => Position {
    return this.multi ? (offset) => ({ file, offset }) : (offset) => offset;
  }

  /**
   * A glob's checkpoint also lists the files read to their end before the position's file (by earlier runs, and
   * before it in this run's order), so a rerun reads a new file whatever its name. Records carry only file and
   * offset: this runs once per checkpoint, not per record.
   */
  checkpointPosition(position: Position): Position {
    if (!this.multi || position === null || typeof position !== 'object' || Array.isArray(position)) return position;
    const file = position.file;
    const index = typeof file === 'string' ? this.order.get(file) : undefined;
    if (index === undefined) return position;
    return { ...position, done: [...this.done, ...this.files.slice(0, index)] };
  }

  private async discover(): Promise<string[]> {
    if (this.multi) return expandGlob(this.config.path);
    const info = await stat(this.config.path).catch(() => undefined);
    if (info !== undefined && !info.isFile()) {
      throw new WireError('INVALID_INPUT', `file source: ${this.config.path} is not a regular file`, { path: this.config.path });
    }
    return info === undefined ? [] : [this.config.path];
  }

  /** Appends files that appeared since the last look, whatever their names; true when there are any. */
  private async discoverNewer(): Promise<boolean> {
    const known = new Set([...this.files, ...this.done]);
    const newer = (await this.discover()).filter((f) => !known.has(f));
    for (const f of newer) {
      this.total += (await stat(f).catch(() => undefined))?.size ?? 0;
      this.order.set(f, this.files.length);
      this.files.push(f);
    }
    return newer.length > 0;
  }

  /** Waits one poll interval; false when the pipeline stopped meanwhile. */
  private async pause(): Promise<boolean> {
    try {
      await sleep(this.config.poll_interval, undefined, { signal: this.signal });
      return !this.closed;
    } catch {
      return false;
    }
  }

  private async openFile(file: string): Promise<FileHandle> {
    try {
      const handle = await openFile(file, 'r');
      this.handle = handle;
      return handle;
    } catch (err) {
      throw new WireError('NOT_FOUND', `file source: cannot open ${file}: ${(err as Error).message}`, { path: file }, err);
    }
  }

  private async closeHandle(handle: FileHandle): Promise<void> {
    if (this.handle === handle) this.handle = undefined;
    // close() may have closed it already while this read was suspended.
    if (handle.fd !== -1) await handle.close();
  }

  private async *readBlocks(format: 'jsonl' | 'lines'): AsyncGenerator<LineBlock> {
    let { index, offset } = this.start;
    while (index < this.files.length && !this.closed && !this.signal.aborted) {
      const file = this.files[index]!;
      yield* this.fileBlocks(file, offset, format);
      if (this.signal.aborted || this.closed) return;
      this.doneBefore += this.current;
      this.current = 0;
      index++;
      offset = 0;
    }
  }

  /**
   * Each read (READ_BYTES) goes into a fresh buffer that starts with the unfinished line of the previous
   * one; the buffer up to its last newline is one block, and the unfinished line after it is copied into
   * the next read's buffer (so the block owns its whole buffer). The next read is issued before the block
   * is handed out, so the disk works while the pipeline does. A line longer than a read makes the next read
   * as long as the line so far, so copying stays linear.
   */
  private async *fileBlocks(file: string, startOffset: number, format: 'jsonl' | 'lines'): AsyncGenerator<LineBlock> {
    const handle = await this.openFile(file);
    const strict = this.config.strict;
    const positionOf = this.positions(file);
    let pending: Promise<Chunk> | undefined;
    try {
      let pos = startOffset;
      // A file shorter than its checkpoint was truncated or replaced: its content is new, read it all.
      if (pos > (await handle.stat()).size) pos = 0;
      this.current = pos;
      pending = this.readChunk(handle, undefined, pos);
      while (!this.signal.aborted && !this.closed) {
        const { buffer, held, bytesRead } = await pending;
        pending = undefined;
        // The file offset of buffer[0]: the carried bytes come just before what this read returned.
        const base = pos - held;
        if (bytesRead === 0) {
          if (held > 0) {
            // The input ends without a newline: its last line is still a record (the newline is not in the file).
            buffer[held] = 10;
            const end = pos;
            yield { data: buffer.subarray(0, held + 1), position: positionOf(pos), format, strict, lineEnd: (at) => positionOf(Math.min(end, base + at)) };
          }
          return;
        }
        pos += bytesRead;
        this.current = pos;
        const end = held + bytesRead;
        const last = buffer.lastIndexOf(10, end - 1);
        if (last < 0) {
          if (end > MAX_LINE_BYTES) {
            // Too long to hold: skipped to its newline; its first bytes go on, for the dead letter.
            const skipped = await this.skipLine(handle, buffer, end, pos);
            this.reuse(buffer);
            if (skipped === undefined) return;
            pos = skipped.pos;
            this.current = pos;
            const longLine = skipped.longLine;
            yield { data: Buffer.allocUnsafeSlow(0), position: positionOf(pos - skipped.carry.length), format, strict, longLine };
            if (skipped.ended) return;
            pending = this.readChunk(handle, skipped.carry, pos);
            continue;
          }
          pending = this.readChunk(handle, buffer.subarray(0, end), pos);
          this.reuse(buffer); // its bytes were copied into the next read's buffer
          continue;
        }
        // The unfinished line is copied out before this returns, so the block may be reused once released.
        pending = this.readChunk(handle, last + 1 < end ? buffer.subarray(last + 1, end) : undefined, pos);
        // Settled by the next turn of this loop, or dropped here if the reader goes away first.
        pending.catch(() => undefined);
        const release = buffer.length === SPARE_BYTES ? once((back?: Uint8Array) => this.reuse(back === undefined ? buffer : ownedBuffer(back))) : undefined;
        const lineEnd = (at: number): Position => positionOf(base + at);
        yield { data: buffer.subarray(0, last + 1), position: positionOf(base + last + 1), format, strict, lineEnd, ...(release ? { release } : {}) };
      }
    } finally {
      // A read still in flight finishes before its handle closes (FileHandle waits for it).
      await this.closeHandle(handle);
    }
  }

  /**
   * Reads on from `pos` past the newline of a line too long to hold, whose first `held` bytes are in `start`. Returns
   * the line (its first bytes and length), the file offset read up to, the bytes read after its newline (`carry`,
   * in memory of their own), and whether the file ended first; undefined when the pipeline stopped meanwhile.
   */
  private async skipLine(
    handle: FileHandle,
    start: Buffer,
    held: number,
    from: number,
  ): Promise<{ longLine: RefusedLine; pos: number; carry: Buffer; ended: boolean } | undefined> {
    const first = firstBytes([start.subarray(0, held)]);
    const buffer = Buffer.allocUnsafe(READ_BYTES);
    let bytes = held;
    let pos = from;
    for (;;) {
      if (this.signal.aborted || this.closed) return undefined;
      const { bytesRead } = await handle.read(buffer, 0, READ_BYTES, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      const nl = buffer.subarray(0, bytesRead).indexOf(10);
      if (nl >= 0) {
        return { longLine: longLine(bytes + nl, first), pos, carry: Buffer.from(buffer.subarray(nl + 1, bytesRead)), ended: false };
      }
      bytes += bytesRead;
    }
    return { longLine: longLine(bytes, first), pos, carry: Buffer.alloc(0), ended: true };
  }

  /**
   * Reads at `pos` into a buffer that starts with a copy of `carry` (the unfinished line before `pos`): a spare
   * one when it fits, else fresh memory. The copy is made before this returns, so `carry`'s buffer is free after.
   */
  private readChunk(handle: FileHandle, carry: Buffer | undefined, pos: number): Promise<Chunk> {
    const held = carry?.length ?? 0;
    // Never more than one byte past the longest line: a read that ends without a newline then shows a line too long.
    const want = Math.max(1, Math.min(Math.max(READ_BYTES, held), MAX_LINE_BYTES + 1 - held));
    const buffer = held + want <= SPARE_BYTES ? (this.spare.pop() ?? Buffer.allocUnsafeSlow(SPARE_BYTES)) : Buffer.allocUnsafeSlow(held + want);
    carry?.copy(buffer, 0);
    return handle.read(buffer, held, want, pos).then(({ bytesRead }) => ({ buffer, held, bytesRead }));
  }

  /** Keeps a block buffer to read into again (not one whose memory went to another thread). */
  private reuse(buffer: Buffer): void {
    if (buffer.length === SPARE_BYTES && buffer.buffer.byteLength !== 0 && this.spare.length < SPARE_BUFFERS) this.spare.push(buffer);
  }

  private async *readLines(file: string, startOffset: number, limit: number, tailing: boolean): AsyncGenerator<Batch> {
    let handle = await this.openFile(file);
    try {
      let pos = startOffset;
      let tail = tailing;
      const size = (await handle.stat()).size;
      // A file shorter than its checkpoint was truncated or replaced: its content is new, read it all.
      if (pos > size) pos = 0;
      const csv = this.config.format === 'csv';
      let header: string[] | undefined;
      if (csv && pos > 0) {
        const found = await readCsvHeader(handle, this.buffer, file);
        header = found.header;
        if (pos < found.end) pos = found.end;
      }
      let parser = new CsvRecordParser();
      const batches = new BatchBuilder(limit);
      const emit = this.lineHandler(file, batches.push, csv, () => parser, (h) => (header = h), () => header);
      // Every line is checked as it is cut (jsonl: JSON; lines and csv: UTF-8); a line that fails is an unreadable record.
      const check = csv ? 'utf8' : lineCheckOf(this.config.format === 'lines' ? 'lines' : 'jsonl', this.config.strict);
      let decoder = new LineDecoder(pos, check);
      this.current = pos;
      let reachedEnd = false;
      for (;;) {
        if (this.signal.aborted || this.closed) break;
        const { bytesRead } = await handle.read(this.buffer, 0, CHUNK_BYTES, pos);
        if (bytesRead > 0) {
          pos += bytesRead;
          this.current = pos;
          decoder.push(this.buffer, 0, bytesRead, emit);
          yield* batches.takeFull();
          continue;
        }
        if (!tail) {
          reachedEnd = true;
          break;
        }
        const partial = batches.takePartial();
        if (partial !== undefined) yield partial;
        if (!(await this.pause())) break;
        const now = await handle.stat();
        if (now.size > pos) continue;
        const onDisk = await stat(file).catch(() => undefined);
        const replaced = onDisk !== undefined && onDisk.ino !== now.ino;
        if (now.size < pos || replaced) {
          // Truncated or rotated in place: what is there now is new data, read from its start.
          if (replaced) {
            await this.closeHandle(handle);
            handle = await this.openFile(file);
          }
          pos = 0;
          this.current = 0;
          decoder = new LineDecoder(0, check);
          parser = new CsvRecordParser();
          header = undefined;
          continue;
        }
        if (this.multi && (await this.discoverNewer())) {
          // A newer file exists, so this one is complete: its unterminated last line is a record.
          tail = false;
          reachedEnd = true;
          break;
        }
      }
      if (reachedEnd) {
        decoder.end(emit);
        if (csv) parser.finish(file);
      }
      yield* batches.takeFull();
      const rest = batches.takePartial();
      if (rest !== undefined) yield rest;
    } finally {
      await this.closeHandle(handle);
    }
  }

  private lineHandler(
    file: string,
    push: (record: WireRecord) => void,
    csv: boolean,
    parser: () => CsvRecordParser,
    setHeader: (header: string[]) => void,
    getHeader: () => string[] | undefined,
  ): LineHandler {
    const { format, strict } = this.config;
    const positionOf = this.positions(file);
    if (csv) {
      // A line that is not UTF-8 (or too long) spoils its row, which may span lines: the parser still reads the
      // line, so it knows where the row ends, and the row goes to the dead letter as that line's bytes.
      let spoiled: RefusedLine | undefined;
      return (line, end, refused) => {
        spoiled ??= refused;
        const fields = parser().pushLine(line);
        if (fields === undefined) return;
        const bad = spoiled;
        spoiled = undefined;
        const header = getHeader();
        if (header === undefined) {
          if (bad !== undefined) throw new WireError('INVALID_INPUT', `file source: ${file}: its CSV header row has a ${bad.error.message}`, { path: file });
          if (!isBlankRow(fields)) setHeader(fields);
          return;
        }
        if (bad !== undefined) return push(WireRecord.unreadableLine(bad.bytes, bad.error, positionOf(end)));
        if (isBlankRow(fields)) return;
        push(WireRecord.fromValue(rowToObject(header, fields), positionOf(end)));
      };
    }
    return lineRecords(format === 'lines' ? 'lines' : 'jsonl', strict, push, positionOf);
  }

  private async *readJson(file: string, startIndex: number, limit: number): AsyncGenerator<Batch> {
    const bytes = await readFile(file).catch((err: Error) => {
      throw new WireError('NOT_FOUND', `file source: cannot read ${file}: ${err.message}`, { path: file }, err);
    });
    // Like malformed JSON: the file is one document, never decoded with U+FFFD in place of bad bytes.
    if (!isUtf8(bytes)) throw new WireError('INVALID_INPUT', `file source: ${file} is not valid UTF-8`, { path: file });
    const text = bytes.toString('utf8');
    let items: unknown;
    try {
      items = JSON.parse(text);
    } catch (err) {
      throw new WireError('INVALID_INPUT', `file source: ${file} is not valid JSON: ${(err as Error).message}`, { path: file }, err);
    }
    if (!Array.isArray(items)) {
      throw new WireError('INVALID_INPUT', `file source: ${file} must hold one JSON array (format: json)`, { path: file });
    }
    const positionOf = this.positions(file);
    for (let i = startIndex; i < items.length && !this.signal.aborted && !this.closed; i += limit) {
      const end = Math.min(items.length, i + limit);
      const batch: Batch = [];
      for (let j = i; j < end; j++) batch.push(WireRecord.fromValue(items[j], positionOf(j + 1)));
      this.current = Math.round((bytes.length * end) / items.length);
      yield batch;
    }
    this.current = bytes.length;
  }
}

interface Chunk {
  /** Fresh memory: the carried bytes, then what was read. */
  readonly buffer: Buffer;
  readonly held: number;
  readonly bytesRead: number;
}

/** Wraps `fn` so only its first call runs. */
function once<A>(fn: (arg?: A) => void): (arg?: A) => void {
  let done = false;
  return (arg) => {
    if (done) return;
    done = true;
    fn(arg);
  };
}

/** The whole of the memory behind a view that came back from another thread, as a Buffer. */
function ownedBuffer(view: Uint8Array): Buffer {
  return Buffer.from(view.buffer, 0, view.buffer.byteLength);
}

/** Reads the header row from the start of a CSV file: resuming mid-file still needs the field names. */
async function readCsvHeader(handle: FileHandle, buffer: Buffer, file: string): Promise<{ header: string[]; end: number }> {
  const parser = new CsvRecordParser();
  const decoder = new LineDecoder(0);
  let found: { header: string[]; end: number } | undefined;
  const emit: LineHandler = (line, end) => {
    if (found !== undefined) return;
    const fields = parser.pushLine(line);
    if (fields !== undefined && !isBlankRow(fields)) found = { header: fields, end };
  };
  let pos = 0;
  while (found === undefined) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, pos);
    if (bytesRead === 0) {
      decoder.end(emit);
      break;
    }
    pos += bytesRead;
    decoder.push(buffer, 0, bytesRead, emit);
  }
  if (found === undefined) throw new WireError('INVALID_INPUT', `file source: ${file} has no CSV header row`, { path: file });
  return found;
}

function checkFileSource(config: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (config.follow === true && config.format === 'json') {
    problems.push({ path: 'follow', message: 'follow is not supported with format json (the file is one array)' });
  }
  if (config.strict === true && config.format !== undefined && config.format !== 'jsonl') {
    problems.push({ path: 'strict', message: 'strict applies to format jsonl only' });
  }
  return problems;
}

export const fileSourceDefinition: ComponentDefinition<Record<string, unknown>, Source> = {
  kind: 'source',
  type: 'file',
  description:
    'Reads records from a file or a glob of files: JSON lines, plain lines, CSV with a header, or one JSON array. ' +
    'Resumes exactly after the last acknowledged record; can follow a growing file.',
  schema: FileSourceSchema,
  example: { path: './data/orders-*.jsonl', format: 'jsonl' },
  check: checkFileSource,
  create: (config) => new FileSource(resolveConfig('file source', FileSourceSchema, config)),
  // A position is a byte offset (json: an element count) in this path, read in this format; where the run is
  // started from must not change which file that is.
  identity: (config) => {
    const { path, format } = resolveConfig('file source', FileSourceSchema, config);
    return { label: resolve(path), key: { path: resolve(path), format } };
  },
  describePosition: (config, position) => {
    const format = resolveConfig('file source', FileSourceSchema, config).format;
    const at = (file: string, offset: number): string => (format === 'json' ? `${file} after element ${offset}` : `${file} at byte ${offset}`);
    const parsed = parseFilePosition(position);
    if (parsed === undefined) return 'the start';
    if (typeof parsed === 'number') return at(String(config.path), parsed);
    const done = parsed.done?.length ?? 0;
    return at(parsed.file, parsed.offset) + (done === 0 ? '' : ` (${done} file${done === 1 ? '' : 's'} read before it)`);
  },
  partitions: filePartitions,
};

/**
 * A glob is one task per file it matches now, the file's path its id; one file is one task. A glob that follows
 * stays one task: it must pick up the files that appear later, which a list made now cannot hold.
 */
async function filePartitions(config: Record<string, unknown>): Promise<SourcePartition[]> {
  const { path, follow } = resolveConfig('file source', FileSourceSchema, config);
  if (!isGlob(path) || follow) return [{ id: '0', config }];
  const files = await expandGlob(path);
  if (files.length === 0) throw new WireError('NOT_FOUND', `file source: no file matches ${path}`, { path });
  return files.map((file) => {
    // A task's path is read as a glob again: a name with a wildcard in it would match other files too.
    if (isGlob(file)) throw new WireError('INVALID_INPUT', `file source: ${file} has a wildcard in its name and cannot be a task of its own`, { path: file });
    return { id: file, config: { ...config, path: file } };
  });
}

export type { FilePosition };
