import type { Readable } from 'node:stream';
import { Type, type Static } from '@sinclair/typebox';
import type { ComponentDefinition, Source, SourceOpenOptions } from '../../core/ports.js';
import type { Batch, Position } from '../../core/record.js';
import { resolveConfig } from '../config.js';
import { BatchBuilder } from '../batch-builder.js';
import { lineCheckOf, lineRecords, type LineBlock } from '../../core/line-block.js';
import { LineDecoder, MAX_LINE_BYTES, firstBytes, longLine, type LineHandler } from '../../core/lines.js';

export const StdinSourceSchema = Type.Object(
  {
    format: Type.Union([Type.Literal('jsonl'), Type.Literal('lines')], {
      default: 'jsonl',
      description:
        'jsonl: one JSON value per line, parsed lazily (blank lines skipped). lines: each line is a string record. ' +
        'A jsonl line that is not JSON, and a line of either format that is not UTF-8, nests deeper than 1000 levels (jsonl) ' +
        'or is longer than 64 MiB, goes to the dead-letter sink with its error (stage `source`).',
    }),
  },
  { additionalProperties: false },
);

export type StdinSourceConfig = Static<typeof StdinSourceSchema>;

const ABORTED = Symbol('aborted');

/**
 * Reads records from standard input until it ends or the pipeline stops. Positions are byte offsets,
 * but a pipe cannot be rewound: a restarted pipeline reads whatever standard input holds then.
 */
export class StdinSource implements Source {
  private signal: AbortSignal = new AbortController().signal;
  private closed = false;
  /** The input itself ended (rather than the pipeline stopping the read). */
  private inputEnded = false;

  constructor(
    private readonly config: StdinSourceConfig,
    private readonly input: Readable = process.stdin,
  ) {}

  async open(options: SourceOpenOptions): Promise<void> {
    this.signal = options.signal;
  }

  /** Each read's whole lines as one block, in memory of its own; what arrived is handed on at once. */
  blocks(): AsyncIterable<LineBlock> {
    return this.readBlocks(this.config.format === 'lines' ? 'lines' : 'jsonl');
  }

  private async *readBlocks(format: 'jsonl' | 'lines'): AsyncGenerator<LineBlock> {
    // The unfinished line: copies of the chunks it spans so far (a list, so a long line is copied once, not per chunk).
    let carry: Buffer[] = [];
    let held = 0;
    let consumed = 0;
    // A line too long to hold, being skipped to its newline: its first bytes and its length so far.
    let long: { first: Uint8Array; bytes: number } | undefined;
    for await (const whole of this.chunks()) {
      let chunk = whole;
      if (long !== undefined) {
        const nl = chunk.indexOf(10);
        if (nl < 0) {
          long.bytes += chunk.length;
          continue;
        }
        consumed += long.bytes + nl + 1;
        yield { data: Buffer.allocUnsafeSlow(0), position: consumed, format, longLine: longLine(long.bytes + nl, long.first) };
        long = undefined;
        chunk = chunk.subarray(nl + 1);
      }
      const first = chunk.indexOf(10);
      if (first >= 0 && held + first > MAX_LINE_BYTES) {
        // The held line ends here, longer than the limit: skipped like one that grew past it.
        consumed += held + first + 1;
        yield { data: Buffer.allocUnsafeSlow(0), position: consumed, format, longLine: longLine(held + first, firstBytes([...carry, chunk.subarray(0, first)])) };
        carry = [];
        held = 0;
        chunk = chunk.subarray(first + 1);
      }
      const last = chunk.lastIndexOf(10);
      if (last < 0) {
        carry.push(Buffer.from(chunk));
        held += chunk.length;
        if (held > MAX_LINE_BYTES) {
          long = { first: firstBytes(carry), bytes: held };
          carry = [];
          held = 0;
        }
        continue;
      }
      // Copied into memory the block owns: the engine may hand it to a worker thread.
      const data = joined([...carry, chunk.subarray(0, last + 1)], held + last + 1);
      carry = last + 1 < chunk.length ? [Buffer.from(chunk.subarray(last + 1))] : [];
      held = chunk.length - (last + 1);
      const start = consumed;
      consumed += data.length;
      yield { data, position: consumed, format, lineEnd: (end) => start + end };
    }
    if (this.inputEnded && long !== undefined) {
      consumed += long.bytes;
      yield { data: Buffer.allocUnsafeSlow(0), position: consumed, format, longLine: longLine(long.bytes, long.first) };
    }
    if (this.inputEnded && held > 0) {
      // The input ends without a newline: its last line is still a record.
      const data = joined(carry, held + 1);
      data[held] = 10;
      const start = consumed;
      consumed += held;
      // The newline is not in the input: the last line ends where the input does.
      const last = consumed;
      yield { data, position: consumed, format, lineEnd: (end) => Math.min(last, start + end) };
    }
  }

  /** The input's chunks as Buffers, until it ends, the pipeline stops or the source closes. */
  private async *chunks(): AsyncGenerator<Buffer> {
    const iterator: AsyncIterator<unknown> = this.input[Symbol.asyncIterator]();
    while (!this.closed && !this.signal.aborted) {
      const step = await this.nextOrAbort(iterator);
      if (step === ABORTED) return;
      if (step.done === true) {
        this.inputEnded = true;
        return;
      }
      yield typeof step.value === 'string' ? Buffer.from(step.value) : (step.value as Buffer);
    }
  }

  /**
   * The input's next chunk, or ABORTED as soon as the signal says so. One listener per wait, removed when it
   * settles: racing every read against one promise that stays pending would keep each chunk alive through
   * that promise's reactions, so memory would grow with the input.
   */
  private nextOrAbort(iterator: AsyncIterator<unknown>): Promise<IteratorResult<unknown> | typeof ABORTED> {
    const signal = this.signal;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => resolve(ABORTED);
      signal.addEventListener('abort', onAbort, { once: true });
      iterator.next().then(
        (step) => {
          signal.removeEventListener('abort', onAbort);
          resolve(step);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

  async *read(maxRecords: number): AsyncIterable<Batch> {
    const limit = Math.max(1, Math.floor(maxRecords));
    const batches = new BatchBuilder(limit);
    const push = batches.push;
    const format = this.config.format === 'lines' ? 'lines' : 'jsonl';
    const emit: LineHandler = lineRecords(format, false, push, (end) => end);
    const decoder = new LineDecoder(0, lineCheckOf(format));
    for await (const chunk of this.chunks()) {
      decoder.push(chunk, 0, chunk.length, emit);
      yield* batches.takeFull();
      // A pipe may go quiet for a long time: what arrived is handed on now, not when a batch fills.
      const partial = batches.takePartial();
      if (partial !== undefined) yield partial;
    }
    // Only at the input's end is an unfinished last line a record; stopped, it was cut short.
    if (this.inputEnded) decoder.end(emit);
    yield* batches.takeFull();
    const rest = batches.takePartial();
    if (rest !== undefined) yield rest;
  }

  /** A pipe has nothing upstream to commit to. */
  async ack(_position: Position): Promise<void> {}

  /** Standard input belongs to the process; it is left open for it. */
  async close(): Promise<void> {
    this.closed = true;
  }
}

/** The parts, in order, copied into one Buffer of `bytes` (at least their total) that owns its memory (`Buffer.concat`
 * may hand out a slice of Node's shared pool, which cannot be transferred to a worker). */
function joined(parts: readonly Buffer[], bytes: number): Buffer {
  const out = Buffer.allocUnsafeSlow(bytes);
  let at = 0;
  for (const part of parts) at += part.copy(out, at);
  return out;
}

export const stdinSourceDefinition: ComponentDefinition<Record<string, unknown>, Source> = {
  kind: 'source',
  type: 'stdin',
  description: 'Reads JSON lines or text lines from standard input until it ends. Cannot resume: a pipe cannot be rewound.',
  schema: StdinSourceSchema,
  example: { format: 'jsonl' },
  create: (config) => new StdinSource(resolveConfig('stdin source', StdinSourceSchema, config)),
};
