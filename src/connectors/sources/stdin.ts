import type { Readable } from 'node:stream';
import { Type, type Static } from '@sinclair/typebox';
import type { ComponentDefinition, Source, SourceOpenOptions } from '../../core/ports.js';
import type { Batch, Position } from '../../core/record.js';
import { resolveConfig } from '../config.js';
import { BatchBuilder } from '../batch-builder.js';
import { lineRecords } from '../../core/line-block.js';
import { LineDecoder, type LineHandler } from '../../core/lines.js';

export const StdinSourceSchema = Type.Object(
  {
    format: Type.Union([Type.Literal('jsonl'), Type.Literal('lines')], {
      default: 'jsonl',
      description: 'jsonl: one JSON value per line, parsed lazily (blank lines skipped). lines: each line is a string record.',
    }),
  },
  { additionalProperties: false },
);

export type StdinSourceConfig = Static<typeof StdinSourceSchema>;

/**
 * Reads records from standard input until it ends or the pipeline stops. Positions are byte offsets,
 * but a pipe cannot be rewound: a restarted pipeline reads whatever standard input holds then.
 */
export class StdinSource implements Source {
  private signal: AbortSignal = new AbortController().signal;
  private closed = false;

  constructor(
    private readonly config: StdinSourceConfig,
    private readonly input: Readable = process.stdin,
  ) {}

  async open(options: SourceOpenOptions): Promise<void> {
    this.signal = options.signal;
  }

  async *read(maxRecords: number): AsyncIterable<Batch> {
    const limit = Math.max(1, Math.floor(maxRecords));
    const batches = new BatchBuilder(limit);
    const push = batches.push;
    const emit: LineHandler = lineRecords(this.config.format === 'lines' ? 'lines' : 'jsonl', false, push, (end) => end);
    const decoder = new LineDecoder(0);
    const iterator: AsyncIterator<unknown> = this.input[Symbol.asyncIterator]();
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<'aborted'>((resolve) => {
      onAbort = () => resolve('aborted');
      if (this.signal.aborted) resolve('aborted');
      else this.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      while (!this.closed) {
        const step = await Promise.race([iterator.next(), aborted]);
        if (step === 'aborted') break;
        if (step.done === true) {
          decoder.end(emit);
          break;
        }
        const chunk = typeof step.value === 'string' ? Buffer.from(step.value) : (step.value as Buffer);
        decoder.push(chunk, 0, chunk.length, emit);
        yield* batches.takeFull();
        // A pipe may go quiet for a long time: what arrived is handed on now, not when a batch fills.
        const partial = batches.takePartial();
        if (partial !== undefined) yield partial;
      }
      yield* batches.takeFull();
      const rest = batches.takePartial();
      if (rest !== undefined) yield rest;
    } finally {
      if (onAbort !== undefined) this.signal.removeEventListener('abort', onAbort);
    }
  }

  /** A pipe has nothing upstream to commit to. */
  async ack(_position: Position): Promise<void> {}

  /** Standard input belongs to the process; it is left open for it. */
  async close(): Promise<void> {
    this.closed = true;
  }
}

export const stdinSourceDefinition: ComponentDefinition<Record<string, unknown>, Source> = {
  kind: 'source',
  type: 'stdin',
  description: 'Reads JSON lines or text lines from standard input until it ends. Cannot resume: a pipe cannot be rewound.',
  schema: StdinSourceSchema,
  example: { format: 'jsonl' },
  create: (config) => new StdinSource(resolveConfig('stdin source', StdinSourceSchema, config)),
};
