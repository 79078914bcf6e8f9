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
      Type.Number({
        exclusiveMinimum: 0,
        description:
          'Records per second, for the whole source (each of `partitions` tasks makes its share); omit it to go as fast as the pipeline takes them.',
      }),
    ),
    partitions: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          'Splits the sequence into this many partitions, partition k holding the records whose `i % partitions == k`: a cluster ' +
          'runs one task per partition. `wire run` without `partition` makes every record, as without it.',
      }),
    ),
    partition: Type.Optional(
      Type.Integer({ minimum: 0, description: 'Makes only this partition (below `partitions`); the cluster sets it for each task.' }),
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

/**
 * Spread rate-limited output over batches of at most this many milliseconds of records, so that records come about
 * when they are due, as from a steady source, not in bursts: a record's latency then includes no wait for the rest
 * of a burst, and a pause of the process (a garbage collection) delays the records of one small batch, not of a
 * large one (`docs/performance.md`, latency).
 */
const PACING_MS = 1;

type Field = readonly [name: string, evaluate: (scope: unknown) => unknown];

function compileRecord(record: Record<string, string>): Field[] {
  return Object.entries(record).map(([name, source]) => [name, compileExpression(source)] as const);
}

/** The part of the sequence a source makes: `i = first, first + stride, …` (every record when not partitioned). */
interface Slice {
  readonly first: number;
  readonly stride: number;
}

function sliceOf(config: GenerateSourceConfig): Slice {
  const { partition, partitions } = config;
  if (partition === undefined) return { first: 0, stride: 1 };
  if (partitions === undefined || partition >= partitions) {
    throw new WireError('INVALID_INPUT', `generate source: partition ${partition} needs partitions above it (got ${partitions ?? 'none'})`, {
      field: 'partition',
    });
  }
  return { first: partition, stride: partitions };
}

/**
 * Makes synthetic records from expressions, for demos and benchmarks. The position is the sequence
 * number, so a resumed pipeline continues after the last acknowledged record. A partition makes every
 * `stride`-th number from its own, so partitions together make each number once.
 */
export class GenerateSource implements Source {
  private readonly fields: Field[];
  private readonly slice: Slice;
  private next: number;
  private signal: AbortSignal = new AbortController().signal;
  private closed = false;

  constructor(private readonly config: GenerateSourceConfig) {
    this.fields = compileRecord(config.record ?? { i: 'i' });
    this.slice = sliceOf(config);
    this.next = this.slice.first;
  }

  async open(options: SourceOpenOptions): Promise<void> {
    this.signal = options.signal;
    const from = options.from;
    if (from !== undefined && from !== null) {
      const { first, stride } = this.slice;
      if (typeof from !== 'number' || !Number.isSafeInteger(from) || from < -1) {
        throw new WireError('INVALID_INPUT', `generate source: checkpoint position ${JSON.stringify(from)} is not a sequence number`);
      }
      // A position of another partition would skip or repeat records (the identity check should have refused it).
      if (from >= 0 && from % stride !== first) {
        throw new WireError('INVALID_INPUT', `generate source: checkpoint position ${from} is not in partition ${first} of ${stride}`);
      }
      this.next = from < 0 ? first : from + stride;
    }
  }

  async *read(maxRecords: number): AsyncIterable<Batch> {
    const { count } = this.config;
    const { stride } = this.slice;
    const rate = this.config.rate === undefined ? undefined : this.config.rate / stride;
    let limit = Math.max(1, Math.floor(maxRecords));
    if (rate !== undefined) limit = Math.min(limit, Math.max(1, Math.ceil((rate * PACING_MS) / 1000)));
    const started = performance.now();
    let made = 0;
    while (!this.closed && !this.signal.aborted) {
      const end = count === undefined ? this.next + limit * stride : Math.min(count, this.next + limit * stride);
      if (end <= this.next) return;
      const batch = this.make(this.next, end);
      yield batch;
      made += batch.length;
      this.next += batch.length * stride;
      if (rate !== undefined) {
        const due = started + (made * 1000) / rate;
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
    return count === undefined ? undefined : { done: this.madeBelow(this.next), total: this.madeBelow(count), unit: 'records' };
  }

  /** How many numbers of this source's slice are below `end`. */
  private madeBelow(end: number): number {
    const { first, stride } = this.slice;
    return Math.max(0, Math.ceil((end - first) / stride));
  }

  /** The records of the slice's numbers from `start` (one of them) up to `end`. */
  private make(start: number, end: number): Batch {
    const stride = this.slice.stride;
    const batch: Batch = new Array<WireRecord>(Math.ceil((end - start) / stride));
    const fields = this.fields;
    for (let i = start, n = 0; i < end; i += stride, n++) {
      const scope = { i };
      const value: Record<string, unknown> = {};
      for (const [name, evaluate] of fields) value[name] = evaluate(scope);
      batch[n] = WireRecord.fromValue(value, i);
    }
    return batch;
  }
}

function checkPartition(config: Record<string, unknown>): ConfigProblem[] {
  const { partition, partitions } = config;
  if (typeof partition !== 'number') return [];
  if (typeof partitions !== 'number') return [{ path: 'partition', message: 'needs partitions (how many there are)' }];
  if (partition >= partitions) return [{ path: 'partition', message: `must be below partitions (${partitions})` }];
  return [];
}

function checkGenerate(config: Record<string, unknown>): ConfigProblem[] {
  const problems = checkPartition(config);
  const record = config.record;
  if (record === null || typeof record !== 'object') return problems;
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
  // The sequence is decided by the count, the record expressions and the partition made; the rate only paces it.
  // Without `partition` every record is made, partitions or not: the key stays what it was before partitions existed.
  identity: (config) => {
    const { count, record, partition, partitions } = resolveConfig('generate source', GenerateSourceSchema, config);
    const label = (count === undefined ? '(endless)' : `(count ${count})`) + (partition === undefined ? '' : ` partition ${partition} of ${partitions}`);
    const key = { count: count ?? null, record: record ?? null };
    return { label, key: partition === undefined ? key : { ...key, partition, partitions: partitions ?? null } };
  },
  describePosition: (_config, position) => `after record ${JSON.stringify(position)} (records are numbered from 0)`,
  // One task per partition, each making its own; a config that already names its partition is that one task.
  partitions: async (config) => {
    const { partition, partitions } = resolveConfig('generate source', GenerateSourceSchema, config);
    if (partition !== undefined) return [{ id: String(partition), config }];
    return Array.from({ length: partitions ?? 1 }, (_, k) => ({ id: String(k), config: partitions === undefined ? config : { ...config, partition: k } }));
  },
};
