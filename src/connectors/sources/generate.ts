import { setTimeout as sleep } from 'node:timers/promises';
import { Type, type Static } from '@sinclair/typebox';
import { WireError } from '../../core/errors.js';
import type { ComponentDefinition, ConfigProblem, Source, SourceOpenOptions, SourceProgress } from '../../core/ports.js';
import { WireRecord, type Batch, type Position } from '../../core/record.js';
import { compileExpression } from '../../transforms/expr/index.js';
import { resolveConfig } from '../config.js';

export const GenerateSourceSchema = Type.Object(
  {
    count: Type.Optional(
      Type.Integer({ minimum: 0, description: 'How many records to make; omit it for an endless stream (until the pipeline stops).' }),
    ),
    rate: Type.Optional(
      Type.Number({ exclusiveMinimum: 0, description: 'Records per second; omit it to go as fast as the pipeline takes them.' }),
    ),
    // No schema default: TypeBox would merge it into a given map. The default is applied in code.
    record: Type.Optional(
      Type.Record(Type.String({ minLength: 1 }), Type.String({ minLength: 1 }), {
        description:
          'Each field of the records made, as an expression evaluated against `{ i }`, the record\'s sequence number from 0: ' +
          "`\"i\"`, `\"concat('user-', i % 10)\"`, `\"i * 1.5\"`. Default: `{ i: \"i\" }`.",
      }),
    ),
  },
  { additionalProperties: false },
);

export type GenerateSourceConfig = Static<typeof GenerateSourceSchema>;

/** Spread rate-limited output over batches of at most this many milliseconds of records. */
const PACING_MS = 50;

type Field = readonly [name: string, evaluate: (scope: unknown) => unknown];

function compileRecord(record: Record<string, string>): Field[] {
  return Object.entries(record).map(([name, source]) => [name, compileExpression(source)] as const);
}

/**
 * Makes synthetic records from expressions, for demos and benchmarks. The position is the sequence
 * number, so a resumed pipeline continues after the last acknowledged record.
 */
export class GenerateSource implements Source {
  private readonly fields: Field[];
  private next = 0;
  private signal: AbortSignal = new AbortController().signal;
  private closed = false;

  constructor(private readonly config: GenerateSourceConfig) {
    this.fields = compileRecord(config.record ?? { i: 'i' });
  }

  async open(options: SourceOpenOptions): Promise<void> {
    this.signal = options.signal;
    const from = options.from;
    if (from !== undefined && from !== null) {
      if (typeof from !== 'number' || !Number.isSafeInteger(from) || from < -1) {
        throw new WireError('INVALID_INPUT', `generate source: checkpoint position ${JSON.stringify(from)} is not a sequence number`);
      }
      this.next = from + 1;
    }
  }

  async *read(maxRecords: number): AsyncIterable<Batch> {
    const { count, rate } = this.config;
    let limit = Math.max(1, Math.floor(maxRecords));
    if (rate !== undefined) limit = Math.min(limit, Math.max(1, Math.ceil((rate * PACING_MS) / 1000)));
    const started = performance.now();
    const first = this.next;
    while (!this.closed && !this.signal.aborted) {
      const end = count === undefined ? this.next + limit : Math.min(count, this.next + limit);
      if (end <= this.next) return;
      yield this.make(this.next, end);
      this.next = end;
      if (rate !== undefined) {
        const due = started + ((this.next - first) * 1000) / rate;
        const wait = due - performance.now();
        if (wait > 0) {
          try {
            await sleep(wait, undefined, { signal: this.signal });
          } catch {
            return;
          }
        }
      }
    }
  }

  /** Generated records need no upstream commit; the checkpointed position is enough to resume. */
  async ack(_position: Position): Promise<void> {}

  async close(): Promise<void> {
    this.closed = true;
  }

  progress(): SourceProgress | undefined {
    const { count } = this.config;
    return count === undefined ? undefined : { done: this.next, total: count, unit: 'records' };
  }

  private make(start: number, end: number): Batch {
    const batch: Batch = new Array<WireRecord>(end - start);
    const fields = this.fields;
    for (let i = start; i < end; i++) {
      const scope = { i };
      const value: Record<string, unknown> = {};
      for (const [name, evaluate] of fields) value[name] = evaluate(scope);
      batch[i - start] = WireRecord.fromValue(value, i);
    }
    return batch;
  }
}

function checkGenerate(config: Record<string, unknown>): ConfigProblem[] {
  const record = config.record;
  if (record === null || typeof record !== 'object') return [];
  const problems: ConfigProblem[] = [];
  for (const [name, source] of Object.entries(record)) {
    if (typeof source !== 'string') continue;
    try {
      compileExpression(source);
    } catch (err) {
      const column = err instanceof WireError && typeof err.details.column === 'number' ? err.details.column : undefined;
      const message = err instanceof Error ? err.message : String(err);
      problems.push(column === undefined ? { path: `record.${name}`, message } : { path: `record.${name}`, message, column });
    }
  }
  return problems;
}

export const generateSourceDefinition: ComponentDefinition<Record<string, unknown>, Source> = {
  kind: 'source',
  type: 'generate',
  description: 'Makes synthetic records from expressions, at a fixed rate or as fast as possible: for demos, tests and benchmarks.',
  schema: GenerateSourceSchema,
  example: { count: 1000, rate: 100, record: { id: 'i', user: "concat('user-', i % 10)", amount: 'i % 250' } },
  check: checkGenerate,
  create: (config) => new GenerateSource(resolveConfig('generate source', GenerateSourceSchema, config)),
  // The sequence is decided by the count and the record expressions; the rate only paces it.
  identity: (config) => {
    const { count, record } = resolveConfig('generate source', GenerateSourceSchema, config);
    return { label: count === undefined ? '(endless)' : `(count ${count})`, key: { count: count ?? null, record: record ?? null } };
  },
  describePosition: (_config, position) => `after record ${JSON.stringify(position)} (records are numbered from 0)`,
};
