import { constants, writevSync } from 'node:fs';
import { access, open as openHandle, stat, type FileHandle } from 'node:fs/promises';
import { makeDirs } from '../../platform/make-dirs.js';
import { dirname, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { RecordsRefused, WireError, errorMessage } from '../../core/errors.js';
import type { ComponentDefinition, Sink, SinkOpenOptions } from '../../core/ports.js';
import { renderLines, type LineFormat } from '../../core/line-block.js';
import type { Batch, JsonValue } from '../../core/record.js';
import { resolveConfig } from '../config.js';
import { CsvRecordParser } from '../file/csv.js';
import { CsvRows } from '../file/csv-rows.js';

export const FileSinkSchema = Type.Object(
  {
    // Through the API, only under the node's --allow-path roots (security/confine.ts).
    path: Type.String({ minLength: 1, 'x-wire-confine': 'path', description: 'The output file; missing parent directories are created.' }),
    format: Type.Union([Type.Literal('jsonl'), Type.Literal('lines'), Type.Literal('csv')], {
      default: 'jsonl',
      description:
        'jsonl: each record as one line of JSON (unchanged records are written byte for byte as read). ' +
        'lines: each record as text (a string value as it is, anything else as JSON). csv: one row per record, after a header row; ' +
        'a field a record lacks is an empty cell, and a record that does not fit the columns goes where `on_error` says (stage `sink`): ' +
        'one that is not an object, or (without `columns`) one with a field the columns lack.',
    }),
    columns: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description:
          'csv only: the columns, in order; other fields of a record are left out. Default: the header the file already has ' +
          '(appending or resuming), else the fields of the first record written, and then a record with a field they lack is ' +
          'not written but goes where `on_error` says.',
      }),
    ),
    append: Type.Boolean({
      default: false,
      description:
        'Keep what the file holds when a pipeline starts without a checkpoint. By default a fresh run starts the file empty; ' +
        'a run resuming from a checkpoint always truncates the file to the length recorded with it (exactly-once), ' +
        'and so does a rerun after a crash before the first checkpoint (to the length the file had when the run began).',
    }),
  },
  { additionalProperties: false },
);

export type FileSinkConfig = Static<typeof FileSinkSchema>;

/** How the file sink opens files: `fs.promises.open`, or a fault-injecting wrapper in tests. */
export type OpenFile = (path: string, flags: string) => Promise<FileHandle>;

/** How it writes small appends: `fs.writevSync` on the handle's descriptor, or a fault-injecting wrapper in tests. */
export type WriteNow = (handle: FileHandle, chunks: readonly Uint8Array[]) => number;

const writevNow: WriteNow = (handle, chunks) => writevSync(handle.fd, chunks as Uint8Array[]);

/**
 * Appends up to this many bytes are written on this thread (like a hand-written server's `writeSync`): copying them
 * into the page cache costs less than handing them to the thread pool and back, which was a tenth of an http
 * ingest's CPU. Larger ones (the line-block path's) go to the pool, so that reading and transforming go on meanwhile.
 */
const SYNC_WRITE_BYTES = 64 * 1024;

/**
 * Appends records to a file, one write per batch; `flush` is fdatasync. Exactly-once: `checkpoint()`
 * is the length made durable by the last flush, and a restart truncates the file back to the length
 * stored with the checkpoint, so records written after it (and about to be replayed) appear once.
 */
export class FileSink implements Sink {
  private handle: FileHandle | undefined;
  private length = 0;
  private durable = 0;
  private readonly csv: CsvRows;
  private headerWritten = false;
  /** Set by `begin`; every write and flush begins first, for callers that do not call it (unit tests). */
  private started = false;
  /** The existing file holds more than `length`: bytes of no checkpoint (or of a fresh run's past), cut by `begin`. */
  private cut = false;
  /** csv records that did not fit, one entry per reason, handed to the engine one per write or flush. */
  private readonly refused: RecordsRefused[] = [];
  /**
   * Set once the file's state is unknown (a failed fdatasync or truncate): every later call fails with it.
   * After a failed fdatasync Linux may drop the dirty pages and report the next one as a success, so no
   * retry could make the bytes durable; only a rerun from the last checkpoint (which truncates) can.
   */
  private broken: WireError | undefined;

  /**
   * The length written so far, and its fdatasync; appends go on meanwhile (each `write` lands whole or not at
   * all). Not for csv: a csv flush may hand misfit records back (RecordsRefused), which only a flush with no
   * write running (the engine's inline flush) can take.
   */
  readonly flushBehind?: () => { state: number; durable: Promise<void> };

  constructor(
    private readonly config: FileSinkConfig,
    private readonly openFile: OpenFile = openHandle,
    private readonly writeSync: WriteNow = writevNow,
  ) {
    this.csv = new CsvRows(config.columns);
    if (config.format !== 'csv') this.flushBehind = () => this.syncBehind();
  }

  /**
   * Checks the file against the checkpoint and opens it, changing nothing: a run may still fail to start (another
   * sink may not open). The file is created or cut back only by `begin`.
   */
  async open(options: SinkOpenOptions): Promise<void> {
    const { path } = this.config;
    const { committed } = options;
    if (committed !== undefined && !(typeof committed === 'number' && Number.isSafeInteger(committed) && committed >= 0)) {
      throw new WireError('INVALID_INPUT', `file sink: checkpoint state ${JSON.stringify(committed)} is not a file length`, { path });
    }
    const existed = (await stat(path).catch(() => undefined)) !== undefined;
    if (!existed) {
      if (committed !== undefined && committed > 0) throw changedOutside(path, 0, committed, options);
      // Created by `begin`, once another sink may already have cut its file: what would fail then must fail now.
      await assertCreatable(path);
      return;
    }
    const handle = await this.openFile(path, 'a+');
    try {
      const size = (await handle.stat()).size;
      let length: number;
      if (committed !== undefined) {
        if (size < committed) throw changedOutside(path, size, committed, options);
        length = committed;
      } else {
        length = this.config.append ? size : 0;
      }
      this.cut = length < size;
      // An appended-to file's length goes into the run's opening checkpoint: it must survive a power loss.
      if (committed === undefined && length > 0) await handle.datasync();
      if (this.config.format === 'csv' && length > 0) {
        this.headerWritten = true;
        this.csv.useHeader(await readHeader(handle));
      }
      this.length = length;
      this.durable = length;
      this.handle = handle;
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Once every component of the run has opened: creates the file, or cuts it back to the length the run starts from. */
  async begin(): Promise<void> {
    if (this.started) return;
    const { path } = this.config;
    if (this.handle === undefined) {
      await makeDirs(dirname(path)).catch((err: unknown) => {
        throw directoryError(path, err as NodeJS.ErrnoException);
      });
      this.handle = await this.openFile(path, 'a+');
      await syncDirectory(dirname(path));
    } else if (this.cut) {
      await this.handle.truncate(this.length);
    }
    this.cut = false;
    this.started = true;
  }

  async write(batch: Batch): Promise<void> {
    if (batch.length === 0) return;
    const format = this.config.format;
    if (format === 'jsonl') {
      const read = readBytes(batch);
      if (read !== undefined) return this.appendChunks(read.chunks, read.bytes);
    }
    if (format !== 'csv') return this.append(renderLines(batch, format));
    const withHeader = !this.headerWritten;
    const { text, rows, refused } = this.csv.render(batch, withHeader);
    if (rows > 0) await this.append(Buffer.from(text, 'utf8'));
    // Only now: a write that failed (and is retried) must render the header again, and refuse its misfits again.
    if (withHeader && rows > 0) this.headerWritten = true;
    this.refused.push(...refused);
    this.throwRefused();
  }

  private throwRefused(): void {
    const first = this.refused.shift();
    if (first !== undefined) throw first;
  }

  /** jsonl and lines files take rendered lines as they are; csv needs records. */
  lineFormat(): LineFormat | undefined {
    const format = this.config.format;
    return format === 'csv' ? undefined : format;
  }

  async writeLines(chunks: readonly Uint8Array[], _count: number): Promise<void> {
    if (this.config.format === 'csv') throw new WireError('INTERNAL', 'file sink: csv output takes records, not lines');
    let total = 0;
    for (const chunk of chunks) total += chunk.length;
    await this.appendChunks(chunks, total);
  }

  private async appendChunks(chunks: readonly Uint8Array[], total: number): Promise<void> {
    if (total <= SYNC_WRITE_BYTES) return this.whole(total, async (handle) => writeAllNow(this.writeSync, handle, chunks));
    if (chunks.length === 1) return this.append(chunks[0]!);
    await this.whole(total, async (handle) => {
      // One writev for all; should it write less, the rest goes piece by piece (and reports the error, if any).
      let done = (await handle.writev(chunks as Uint8Array[])).bytesWritten;
      for (const chunk of chunks) {
        if (done >= chunk.length) {
          done -= chunk.length;
          continue;
        }
        await writeAll(handle, chunk.subarray(done));
        done = 0;
      }
    });
  }

  private async append(data: Uint8Array): Promise<void> {
    if (data.length <= SYNC_WRITE_BYTES) return this.whole(data.length, async (handle) => writeAllNow(this.writeSync, handle, [data]));
    await this.whole(data.length, (handle) => writeAll(handle, data));
  }

  /**
   * Runs a write that either lands whole or not at all: on failure the file is cut back to its length before
   * it, so the engine's retry does not leave a partial batch in the middle of the output.
   */
  private async whole(bytes: number, write: (handle: FileHandle) => Promise<void>): Promise<void> {
    const handle = await this.ready();
    try {
      await write(handle);
    } catch (err) {
      try {
        await handle.truncate(this.length);
      } catch (truncateError) {
        // Part of the batch may stay in the file: a retry would append after it and corrupt the output.
        const what = `could not cut ${this.config.path} back to ${this.length} bytes after a failed write (${errorMessage(err)})`;
        throw this.break(what, truncateError);
      }
      throw err;
    }
    this.length += bytes;
  }

  async flush(): Promise<void> {
    await this.syncBehind().durable;
  }

  private syncBehind(): { state: number; durable: Promise<void> } {
    const covered = this.length;
    return { state: covered, durable: this.sync(covered) };
  }

  private async sync(covered: number): Promise<void> {
    const handle = await this.ready();
    // csv records that did not fit go to the engine before anything is confirmed (it flushes again after each).
    this.throwRefused();
    try {
      // fdatasync also persists the file's size, which is all a reader needs after a crash.
      await handle.datasync();
    } catch (err) {
      throw this.break(`fdatasync of ${this.config.path} failed: what was written since the last checkpoint may be lost`, err);
    }
    // Syncs may overlap: what is durable only grows.
    if (covered > this.durable) this.durable = covered;
  }

  /** Marks the sink unusable for the rest of the run and returns the error that says why. */
  private break(what: string, cause: unknown): WireError {
    this.broken = new WireError(
      'UNAVAILABLE',
      `file sink: ${what} (${errorMessage(cause)}); the run stops, and a rerun resumes from the last checkpoint`,
      // fatal: the engine fails the run rather than handing the batch to on_error (the file, not the batch, is bad).
      { path: this.config.path, retryable: false, fatal: true },
      cause,
    );
    return this.broken;
  }

  checkpoint(): JsonValue {
    return this.durable;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  private async ready(): Promise<FileHandle> {
    if (this.broken !== undefined) throw this.broken;
    if (!this.started) await this.begin();
    if (this.handle === undefined) throw new WireError('INTERNAL', 'file sink used before open or after close');
    return this.handle;
  }
}

/** Why the directory of `path` could not be made, as the error a user can act on. */
function directoryError(path: string, err: NodeJS.ErrnoException): WireError {
  const code = err.code === 'EACCES' || err.code === 'EPERM' ? 'FORBIDDEN' : err.code === 'ENOENT' || err.code === 'ENOTDIR' ? 'INVALID_INPUT' : 'UNAVAILABLE';
  return new WireError(code, `file sink: cannot create the directory of ${path}: ${err.message}`, { path }, err);
}

/** Checks that `path` can be created: its nearest existing ancestor is a directory this process may write in. */
async function assertCreatable(path: string): Promise<void> {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const info = await stat(dir).catch(() => undefined);
    if (info === undefined && dirname(dir) !== dir) continue;
    if (info === undefined || !info.isDirectory()) {
      throw new WireError('INVALID_INPUT', `file sink: cannot create ${path}: ${dir} is not a directory`, { path });
    }
    try {
      await access(dir, constants.W_OK);
    } catch (err) {
      throw new WireError('FORBIDDEN', `file sink: cannot create ${path}: ${dir} is not writable`, { path }, err);
    }
    return;
  }
}

/** The file holds less than its checkpoint says was written: the way out depends on what the user wants. */
function changedOutside(path: string, size: number, committed: number, run: { pipeline: string; dataDir: string }): WireError {
  const { pipeline, dataDir } = run;
  return new WireError(
    'CONFLICT',
    `file sink: ${path} holds ${size} bytes but its checkpoint says ${committed} were written: it was changed outside Wire. ` +
      `Restore it, or start pipeline ${pipeline} over: \`wire run --from-start\` (reads every source again and rewrites the file), ` +
      `or \`wire checkpoints reset ${pipeline} --data-dir ${dataDir}\` then \`wire run\``,
    { path, size, committed, pipeline },
  );
}

const NEWLINE = 10;
const NEWLINE_BYTES = new Uint8Array([NEWLINE]);

/**
 * The batch as JSON lines made of the bytes its records were read as, when every record has them
 * (`WireRecord.jsonBytes`): lines that lay one after another in the source's memory, a newline between them,
 * go out as one chunk. Undefined when some record must be rendered.
 */
function readBytes(batch: Batch): { chunks: Uint8Array[]; bytes: number } | undefined {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  /** The run of lines so far: `memory` from `from` to `to`. */
  let memory: Uint8Array | undefined;
  let from = 0;
  let to = 0;
  for (const record of batch) {
    const line = record.jsonBytes;
    if (line === undefined) return undefined;
    bytes += line.length + 1;
    if (memory !== undefined) {
      if (line.buffer === memory.buffer && line.byteOffset === to + 1 && memory[to] === NEWLINE) {
        to = line.byteOffset + line.length;
        continue;
      }
      chunks.push(memory.subarray(from, to), NEWLINE_BYTES);
    }
    if (memory?.buffer !== line.buffer) memory = new Uint8Array(line.buffer);
    from = line.byteOffset;
    to = from + line.length;
  }
  if (memory !== undefined) chunks.push(memory.subarray(from, to), NEWLINE_BYTES);
  return { chunks, bytes };
}

/** Writes every byte of `chunks` now, however many calls that takes. */
function writeAllNow(write: WriteNow, handle: FileHandle, chunks: readonly Uint8Array[]): void {
  let rest = chunks;
  for (;;) {
    let done = write(handle, rest);
    let i = 0;
    while (i < rest.length && done >= rest[i]!.length) done -= rest[i++]!.length;
    if (i === rest.length) return;
    rest = [rest[i]!.subarray(done), ...rest.slice(i + 1)];
  }
}

async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += (await handle.write(data, off, data.length - off)).bytesWritten;
}

/** A new file's directory entry must be durable too, or a crash can lose the whole file. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await openHandle(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The header row of an existing CSV output, so appended rows keep its column order. */
async function readHeader(handle: FileHandle): Promise<string[]> {
  const parser = new CsvRecordParser();
  const buffer = Buffer.alloc(64 * 1024);
  const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
  const text = buffer.toString('utf8', 0, bytesRead);
  for (const line of text.split('\n')) {
    const fields = parser.pushLine(line.endsWith('\r') ? line.slice(0, -1) : line);
    if (fields !== undefined) return fields;
  }
  throw new WireError('INVALID_INPUT', 'file sink: the existing CSV file has no complete header row in its first 64 KiB');
}

export const fileSinkDefinition: ComponentDefinition<Record<string, unknown>, Sink> = {
  kind: 'sink',
  type: 'file',
  description:
    'Writes records to a file as JSON lines, text lines or CSV. Exactly-once: on restart the file is truncated to the ' +
    'length recorded with the last checkpoint before the replayed records are written again. A failed fdatasync (or a ' +
    'failed write it cannot undo) stops the run rather than being retried; the rerun resumes from the last checkpoint.',
  schema: FileSinkSchema,
  example: { path: './out/orders.jsonl', format: 'jsonl' },
  create: (config) => new FileSink(resolveConfig('file sink', FileSinkSchema, config)),
  // The checkpointed length measures this file: a checkpoint saved for another must not cut this one.
  identity: (config) => {
    const path = resolve(resolveConfig('file sink', FileSinkSchema, config).path);
    return { label: path, key: { path } };
  },
};
