import { WireError } from '../../src/core/errors.js';
import type {
  ComponentDefinition,
  ComponentKind,
  ComponentRegistry,
  Sink,
  SinkOpenOptions,
  Source,
  SourceOpenOptions,
  Transform,
} from '../../src/core/ports.js';
import type { PipelineSpec } from '../../src/core/pipeline.js';
import { WireRecord, type Batch, type JsonValue, type Position } from '../../src/core/record.js';
import { transformDefinitions } from './fake-transforms.js';

export interface CountingSourceOptions {
  count: number;
  /** The record's raw text for index i (default `{"n":i}`). */
  raw?: (i: number) => string;
  key?: (i: number) => string | undefined;
  /** Awaited before yielding the batch that starts at index i (to pause the source at a point). */
  before?: (i: number) => Promise<void> | void;
}

/** Yields records 0..count-1, position = index; resumes after `from`. Counts what it produced and what was acked. */
export class CountingSource implements Source {
  produced = 0;
  acks: Position[] = [];
  opened: SourceOpenOptions | undefined;
  closed = false;
  signal: AbortSignal | undefined;

  constructor(private readonly o: CountingSourceOptions) {}

  async open(options: SourceOpenOptions): Promise<void> {
    this.opened = options;
    this.signal = options.signal;
  }

  async *read(max: number): AsyncIterable<Batch> {
    const start = typeof this.opened?.from === 'number' ? this.opened.from + 1 : 0;
    for (let i = start; i < this.o.count; i += max) {
      if (this.o.before !== undefined) await this.o.before(i);
      if (this.signal?.aborted) return;
      const end = Math.min(this.o.count, i + max);
      const batch: Batch = new Array(end - i);
      for (let j = i; j < end; j++) {
        const r = WireRecord.fromRaw(this.o.raw?.(j) ?? `{"n":${j}}`, j);
        const key = this.o.key?.(j);
        if (key !== undefined) r.key = key;
        batch[j - i] = r;
      }
      this.produced += batch.length;
      yield batch;
    }
  }

  async ack(position: Position): Promise<void> {
    const last = this.acks[this.acks.length - 1];
    if (typeof last === 'number' && typeof position === 'number' && position < last) throw new Error('ack went backwards');
    this.acks.push(position);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export interface MemorySinkOptions {
  /** Awaited in every write (a slow sink). */
  delay?: (batch: Batch) => Promise<void>;
  /** Throws for a write when it returns an error (called once per attempt). */
  failure?: (batch: Batch, attempt: number) => Error | undefined;
  /** Keep only counts, not texts (big runs). */
  countOnly?: boolean;
}

/**
 * Keeps written record texts; `durable` is what a flush made durable and `checkpoint()` returns its length,
 * so opening with `committed` truncates to it — like the file sink's exactly-once restart.
 */
export class MemorySink implements Sink {
  written: string[] = [];
  writtenCount = 0;
  durable = 0;
  writes = 0;
  attempts = 0;
  flushes = 0;
  closed = false;
  openedWith: SinkOpenOptions | undefined;

  constructor(private readonly o: MemorySinkOptions = {}) {}

  async open(options: SinkOpenOptions): Promise<void> {
    this.openedWith = options;
    if (typeof options.committed === 'number') {
      this.written.length = Math.min(this.written.length, options.committed);
      this.writtenCount = this.written.length;
      this.durable = this.written.length;
    } else if (options.committed === undefined) {
      this.written = [];
      this.writtenCount = 0;
      this.durable = 0;
    }
  }

  async write(batch: Batch): Promise<void> {
    this.attempts++;
    const error = this.o.failure?.(batch, this.attempts);
    if (error !== undefined) throw error;
    if (this.o.delay !== undefined) await this.o.delay(batch);
    this.writes++;
    this.writtenCount += batch.length;
    if (!this.o.countOnly) for (const r of batch) this.written.push(r.text());
  }

  async flush(): Promise<void> {
    this.flushes++;
    this.durable = this.writtenCount;
  }

  checkpoint(): JsonValue {
    return this.durable;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  values(): unknown[] {
    return this.written.map((t) => JSON.parse(t));
  }
}

/** A sink that flushes behind the writes (`Sink.flushBehind`), each flush held until the test lets it go. */
export class GatedFlushSink extends MemorySink {
  readonly gates: (() => void)[] = [];
  /** What each flush covered (records written when it started). */
  readonly covered: number[] = [];
  flushBehind(): { state: number; durable: Promise<void> } {
    this.flushes++;
    const state = this.writtenCount;
    this.covered.push(state);
    const durable = new Promise<void>((resolve) => this.gates.push(resolve)).then(() => {
      this.durable = Math.max(this.durable, state);
    });
    return { state, durable };
  }
}

export function nonRetryable(message: string): WireError {
  return new WireError('UNAVAILABLE', message, { retryable: false });
}

export function transformDefinition(type: string, transform: Transform, declares: { keepsKey?: boolean } = {}): ComponentDefinition {
  return { kind: 'transform', type, description: type, schema: {}, create: () => transform, ...declares };
}

function instance(kind: ComponentKind, type: string, make: () => Source | Sink | Transform): ComponentDefinition {
  return { kind, type, description: type, schema: {}, create: make };
}

/** A registry whose source and sinks are the given instances, plus the fake transforms. */
export function fakeRegistry(
  components: { source: Source; sink: Sink; deadLetter?: Sink },
  extra: ComponentDefinition[] = [],
): ComponentRegistry {
  const list: ComponentDefinition[] = [
    ...extra,
    instance('source', 'fake', () => components.source),
    instance('sink', 'fake', () => components.sink),
    ...(components.deadLetter === undefined ? [] : [instance('sink', 'fake-dlq', () => components.deadLetter!)]),
    ...transformDefinitions,
  ];
  return {
    get: (kind, type) => list.find((d) => d.kind === kind && d.type === type),
    list: (kind) => (kind === undefined ? list : list.filter((d) => d.kind === kind)),
  };
}

export function spec(overrides: Partial<PipelineSpec> = {}): PipelineSpec {
  return {
    name: 'test',
    source: { type: 'fake', config: {} },
    transforms: [],
    sink: { type: 'fake', config: {} },
    parallelism: 1,
    workers: 0,
    onError: 'dead_letter',
    retry: { maxAttempts: 3, initialMs: 1, maxMs: 4 },
    batchSize: 100,
    ...overrides,
  };
}

export function transforms(...list: [string, Record<string, unknown>?][]): PipelineSpec['transforms'] {
  return list.map(([type, config]) => ({ type, config: config ?? {} }));
}

export const DLQ = { type: 'fake-dlq', config: {} };

/** A promise with its resolve, to hold a component at a point until the test lets it go. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Virtual time: sleeps return at once and advance the clock (backoffs and rate limits, no real waiting). */
export class VirtualClock {
  time = 0;
  slept: number[] = [];
  now = (): number => this.time;
  sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    if (signal?.aborted) throw new WireError('UNAVAILABLE', 'aborted', { aborted: true });
    this.slept.push(ms);
    this.time += ms;
  };
}
