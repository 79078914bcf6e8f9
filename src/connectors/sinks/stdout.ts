import type { Writable } from 'node:stream';
import { Type, type Static } from '@sinclair/typebox';
import { WireError } from '../../core/errors.js';
import type { LineFormat } from '../../core/line-block.js';
import type { ComponentDefinition, Sink } from '../../core/ports.js';
import type { Batch } from '../../core/record.js';
import { resolveConfig } from '../config.js';

export const StdoutSinkSchema = Type.Object(
  {
    format: Type.Union([Type.Literal('jsonl'), Type.Literal('lines')], {
      default: 'jsonl',
      description: 'jsonl: each record as one line of JSON. lines: each record as text (a string value as it is, anything else as JSON).',
    }),
  },
  { additionalProperties: false },
);

export type StdoutSinkConfig = Static<typeof StdoutSinkSchema>;

/** Writes records to standard output, one write per batch, waiting for each to be handed to the OS. */
export class StdoutSink implements Sink {
  constructor(
    private readonly config: StdoutSinkConfig,
    private readonly output: Writable = process.stdout,
  ) {}

  async open(): Promise<void> {}

  async write(batch: Batch): Promise<void> {
    if (batch.length === 0) return;
    let out = '';
    if (this.config.format === 'jsonl') for (const record of batch) out += record.json() + '\n';
    else for (const record of batch) out += record.text() + '\n';
    await this.send([out]);
  }

  /** Both formats take rendered lines as they are (the line-block path). */
  lineFormat(): LineFormat {
    return this.config.format;
  }

  async writeLines(chunks: readonly Uint8Array[], _count: number): Promise<void> {
    await this.send(chunks);
  }

  /**
   * Writes the parts in order and resolves once the last one's callback fired: the stream has then handed all of
   * them to the OS (callbacks come in order), so the caller may reuse their memory. This is the sink's backpressure.
   */
  private send(parts: readonly (string | Uint8Array)[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let failed = false;
      const last = parts.length - 1;
      if (last < 0) return resolve();
      parts.forEach((part, i) => {
        this.output.write(part, (err) => {
          if (err) {
            // Part of the batch may be out already and a stream cannot take it back: a retry would write it twice,
            // and a failed stream stays failed. fatal: the run stops rather than dead-lettering everything after.
            if (!failed) reject(new WireError('UNAVAILABLE', `stdout sink: ${err.message}`, { retryable: false, fatal: true }, err));
            failed = true;
          } else if (i === last && !failed) {
            resolve();
          }
        });
      });
    });
  }

  /** Every write already waited for the OS to take its data. */
  async flush(): Promise<void> {}

  /** Standard output belongs to the process, not to the pipeline: it stays open. */
  async close(): Promise<void> {}
}

export const stdoutSinkDefinition: ComponentDefinition<Record<string, unknown>, Sink> = {
  kind: 'sink',
  type: 'stdout',
  description: 'Writes records to standard output as JSON lines or text lines.',
  schema: StdoutSinkSchema,
  example: { format: 'jsonl' },
  create: (config) => new StdoutSink(resolveConfig('stdout sink', StdoutSinkSchema, config)),
};
