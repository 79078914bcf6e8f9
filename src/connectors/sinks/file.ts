import { mkdir, open as openFile, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { WireError } from '../../core/errors.js';
import type { ComponentDefinition, Sink, SinkOpenOptions } from '../../core/ports.js';
import { renderLines, type LineFormat } from '../../core/line-block.js';
import type { Batch, JsonValue, WireRecord } from '../../core/record.js';
import { resolveConfig } from '../config.js';
import { CsvRecordParser, cellText, formatCsvRow } from '../file/csv.js';

export const FileSinkSchema = Type.Object(
  {
    path: Type.String({ minLength: 1, description: 'The output file; missing parent directories are created.' }),
    format: Type.Union([Type.Literal('jsonl'), Type.Literal('lines'), Type.Literal('csv')], {
      default: 'jsonl',
      description:
        'jsonl: each record as one line of JSON (unchanged records are written byte for byte as read). ' +
        'lines: each record as text (a string value as it is, anything else as JSON). csv: one row per record, after a header row.',
    }),
    columns: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description: 'csv only: the columns, in order. Default: the fields of the first record (or the existing header when appending).',
      }),
    ),
    append: Type.Boolean({
      default: false,
      description:
        'Keep what the file holds when a pipeline starts without a checkpoint. By default a fresh run starts the file empty; ' +
        'a run resuming from a checkpoint always truncates the file to the length recorded with it (exactly-once).',
    }),
  },
  { additionalProperties: false },
);

export type FileSinkConfig = Static<typeof FileSinkSchema>;

function objectOf(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
}

/**
 * Appends records to a file, one write per batch; `flush` is fdatasync. Exactly-once: `checkpoint()`
 * is the length made durable by the last flush, and a restart truncates the file back to the length
 * stored with the checkpoint, so records written after it (and about to be replayed) appear once.
 */
export class FileSink implements Sink {
  private handle: FileHandle | undefined;
  private length = 0;
  private durable = 0;
  private columns: string[] | undefined;
  private headerWritten = false;

  constructor(private readonly config: FileSinkConfig) {
    this.columns = config.columns === undefined ? undefined : [...config.columns];
  }

  async open(options: SinkOpenOptions): Promise<void> {
    const { path } = this.config;
    const { committed } = options;
    if (committed !== undefined && !(typeof committed === 'number' && Number.isSafeInteger(committed) && committed >= 0)) {
      throw new WireError('INVALID_INPUT', `file sink: checkpoint state ${JSON.stringify(committed)} is not a file length`, { path });
    }
    await mkdir(dirname(path), { recursive: true });
    const existed = (await stat(path).catch(() => undefined)) !== undefined;
    const handle = await openFile(path, 'a+');
    try {
      const size = (await handle.stat()).size;
      let length: number;
      if (committed !== undefined) {
        if (size < committed) {
          throw new WireError(
            'CONFLICT',
            `file sink: ${path} holds ${size} bytes but its checkpoint says ${committed} were written: it was changed outside Wire; restore it or reset the pipeline's checkpoint`,
            { path, size, committed },
          );
        }
        length = committed;
      } else {
        length = this.config.append ? size : 0;
      }
      if (length < size) await handle.truncate(length);
      if (!existed) await syncDirectory(dirname(path));
      if (this.config.format === 'csv' && length > 0) {
        this.headerWritten = true;
        this.columns ??= await readHeader(handle);
      }
      this.length = length;
      this.durable = length;
      this.handle = handle;
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  async write(batch: Batch): Promise<void> {
    if (batch.length === 0) return;
    const format = this.config.format;
    await this.append(format === 'csv' ? Buffer.from(this.renderCsv(batch), 'utf8') : renderLines(batch, format));
  }

  /** jsonl and lines files take rendered lines as they are; csv needs records. */
  lineFormat(): LineFormat | undefined {
    const format = this.config.format;
    return format === 'csv' ? undefined : format;
  }

  async writeLines(chunks: readonly Uint8Array[], _count: number): Promise<void> {
    if (this.config.format === 'csv') throw new WireError('INTERNAL', 'file sink: csv output takes records, not lines');
    const handle = this.requireOpen();
    let total = 0;
    for (const chunk of chunks) total += chunk.length;
    await this.whole(total, async () => {
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
    const handle = this.requireOpen();
    await this.whole(data.length, () => writeAll(handle, data));
  }

  /**
   * Runs a write that either lands whole or not at all: on failure the file is cut back to its length before
   * it, so the engine's retry does not leave a partial batch in the middle of the output.
   */
  private async whole(bytes: number, write: () => Promise<void>): Promise<void> {
    const handle = this.requireOpen();
    try {
      await write();
    } catch (err) {
      await handle.truncate(this.length).catch(() => undefined);
      throw err;
    }
    this.length += bytes;
  }

  async flush(): Promise<void> {
    const handle = this.requireOpen();
    // fdatasync also persists the file's size, which is all a reader needs after a crash.
    await handle.datasync();
    this.durable = this.length;
  }

  checkpoint(): JsonValue {
    return this.durable;
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  private requireOpen(): FileHandle {
    if (this.handle === undefined) throw new WireError('INTERNAL', 'file sink used before open or after close');
    return this.handle;
  }

  private renderCsv(batch: Batch): string {
    let out = '';
    const columns = (this.columns ??= Object.keys(objectOf((batch[0] as WireRecord).value)));
    if (!this.headerWritten) {
      out += formatCsvRow(columns);
      this.headerWritten = true;
    }
    const cells = new Array<string>(columns.length);
    for (const record of batch) {
      const value = objectOf(record.value);
      for (let i = 0; i < columns.length; i++) cells[i] = cellText(value[columns[i]!]);
      out += formatCsvRow(cells);
    }
    return out;
  }
}

async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += (await handle.write(data, off, data.length - off)).bytesWritten;
}

/** A new file's directory entry must be durable too, or a crash can lose the whole file. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await openFile(dir, 'r');
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
    'length recorded with the last checkpoint before the replayed records are written again.',
  schema: FileSinkSchema,
  example: { path: './out/orders.jsonl', format: 'jsonl' },
  create: (config) => new FileSink(resolveConfig('file sink', FileSinkSchema, config)),
};
