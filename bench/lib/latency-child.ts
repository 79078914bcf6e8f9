// One latency measurement, in its own process: generate → map → file, run by the engine as `wire run` would,
// with the generate source and the file sink wrapped to note when each record was read and when the sink's
// write of it resolved. Prints one JSON line: records, seconds, the read→write latency p50/p99/max in ms, and
// where the time of a batch went (stages): read → the sink's write called (`wait`: transforms, queues, the serial
// section), the write itself, garbage collections, and the checkpoints' flushes.
// Usage: latency-child OUTPUT_DIR RECORDS [RATE]   (no RATE: as fast as the pipeline goes)
import { join } from 'node:path';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { ComponentDefinition, ComponentRegistry, Sink, Source } from '../../src/core/ports.js';
import type { Batch } from '../../src/core/record.js';

const dist = (path: string): Promise<unknown> => import(pathToFileURL(join(import.meta.dirname, '../../dist', path)).href);
const { createRegistry } = (await dist('connectors/registry.js')) as typeof import('../../src/connectors/registry.js');
const { parsePipelineText } = (await dist('config/load.js')) as typeof import('../../src/config/load.js');
const { runPipeline } = (await dist('engine/runner.js')) as typeof import('../../src/engine/runner.js');
const { MemoryCheckpointStore } = (await dist('engine/memory-checkpoint-store.js')) as typeof import('../../src/engine/memory-checkpoint-store.js');
const { silentLogger } = (await dist('observability/logger.js')) as typeof import('../../src/observability/logger.js');

const [dir = '.', recordsArg = '100000', rateArg] = process.argv.slice(2);
const records = Number(recordsArg);
/**
 * The first records of a run meet code V8 has not compiled yet (the first batches wait 20–100 ms on this 2-core VM
 * while the map, the JSON writer and the sink's write are compiled): a start-up cost, reported apart, not the
 * latency of a running pipeline.
 */
const WARMUP_MS = 500;
const readAt = new Float64Array(records);
const latencies = new Float64Array(records);
let written = 0;
/** Per batch written: when its first record was read, the sink's write called and resolved (performance.now()). */
const batches: { read: number; called: number; done: number }[] = [];
/** Garbage collections and flushes: [start, end]. */
const gcs: [number, number][] = [];
const flushes: [number, number][] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcs.push([entry.startTime, entry.startTime + entry.duration]);
}).observe({ entryTypes: ['gc'] });

// The component itself, with one method replaced: its other methods keep their own `this`.
function timedSource(source: Source): Source {
  const read = source.read.bind(source);
  source.read = async function* (max: number): AsyncIterable<Batch> {
    for await (const batch of read(max)) {
      const now = performance.now();
      for (const record of batch) readAt[Number(record.position)] = now;
      yield batch;
    }
  };
  return source;
}

function timedSink(sink: Sink): Sink {
  const write = sink.write.bind(sink);
  sink.write = async (batch: Batch): Promise<void> => {
    const called = performance.now();
    await write(batch);
    const now = performance.now();
    batches.push({ read: readAt[Number(batch[0]!.position)]!, called, done: now });
    for (const record of batch) latencies[written++] = now - readAt[Number(record.position)]!;
  };
  const flushBehind = sink.flushBehind?.bind(sink);
  if (flushBehind !== undefined) {
    sink.flushBehind = () => {
      const started = performance.now();
      const flush = flushBehind();
      void flush.durable.then(() => flushes.push([started, performance.now()]), () => undefined);
      return flush;
    };
  }
  const flush = sink.flush.bind(sink);
  sink.flush = async (): Promise<void> => {
    const started = performance.now();
    await flush();
    flushes.push([started, performance.now()]);
  };
  return sink;
}

const base = createRegistry();
function timed<C, T extends Source | Sink>(definition: ComponentDefinition<C, T>, wrap: (inner: T) => T): ComponentDefinition<C, T> {
  return { ...definition, create: (config: C) => wrap(definition.create(config)) };
}
const registry: ComponentRegistry = {
  list: base.list,
  get: (kind, type) => {
    const definition = base.get(kind, type);
    if (definition === undefined) return undefined;
    if (kind === 'source' && type === 'generate') return timed(definition as ComponentDefinition<unknown, Source>, timedSource);
    if (kind === 'sink' && type === 'file') return timed(definition as ComponentDefinition<unknown, Sink>, timedSink);
    return definition;
  },
};

const yaml = [
  'name: latency',
  'source:',
  '  type: generate',
  `  config: { count: ${records}${rateArg === undefined ? '' : `, rate: ${Number(rateArg)}`}, record: { id: "i", user: "concat('user-', i % 10)", amount: "i % 250" } }`,
  'transforms:',
  '  - type: map',
  '    config: { set: { user: "upper(user)", total: "amount * 1.2" } }',
  'sink:',
  '  type: file',
  `  config: { path: ${JSON.stringify(join(dir, 'latency.out.jsonl'))} }`,
  '',
].join('\n');
const loaded = parsePipelineText(yaml, 'latency.yaml', { env: {}, registry });
if (loaded.pipelines === undefined) throw new Error(JSON.stringify(loaded.problems));
const summary = await runPipeline({
  spec: loaded.pipelines[0]!,
  registry,
  checkpointStore: new MemoryCheckpointStore(),
  dataDir: dir,
  logger: silentLogger(),
}).done;
const round = (n: number): number => Number(n.toFixed(3));
const p = (sorted: ArrayLike<number>, q: number): number => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
const start = readAt[0]!;
const steady: number[] = [];
const warm: number[] = [];
for (let i = 0; i < written; i++) (readAt[i]! - start < WARMUP_MS ? warm : steady).push(latencies[i]!);
steady.sort((a, b) => a - b);
warm.sort((a, b) => a - b);
const measured = batches.filter((b) => b.read - start >= WARMUP_MS);
const sortedOf = (values: number[]): number[] => values.sort((a, b) => a - b);
/** Milliseconds of [from, to] that `spans` cover. */
const overlap = (spans: [number, number][], from: number, to: number): number =>
  round(spans.reduce((sum, [s, e]) => sum + Math.max(0, Math.min(e, to) - Math.max(s, from)), 0));
const worst = measured.reduce<(typeof measured)[number] | undefined>((w, b) => (w === undefined || b.called - b.read > w.called - w.read ? b : w), undefined);
const inRun = (spans: [number, number][]): [number, number][] => spans.filter(([s]) => s - start >= WARMUP_MS);
process.stdout.write(
  JSON.stringify({
    records: written,
    seconds: summary.elapsedMs / 1000,
    measured_records: steady.length,
    p50_ms: p(steady, 0.5),
    p99_ms: p(steady, 0.99),
    max_ms: round(steady[steady.length - 1] ?? NaN),
    warmup: { ms: WARMUP_MS, records: warm.length, p99_ms: p(warm, 0.99), max_ms: round(warm[warm.length - 1] ?? NaN) },
    stages: {
      batches: measured.length,
      wait_p99_ms: p(sortedOf(measured.map((b) => b.called - b.read)), 0.99),
      write_p99_ms: p(sortedOf(measured.map((b) => b.done - b.called)), 0.99),
      gc_count: inRun(gcs).length,
      gc_max_ms: round(Math.max(0, ...inRun(gcs).map(([s, e]) => e - s))),
      flushes: inRun(flushes).length,
      flush_max_ms: round(Math.max(0, ...inRun(flushes).map(([s, e]) => e - s))),
      // What happened while the worst batch waited: collections, a checkpoint's sync; the rest is other work or none.
      worst_wait:
        worst === undefined
          ? undefined
          : {
              wait_ms: round(worst.called - worst.read),
              gc_ms: overlap(gcs, worst.read, worst.called),
              flush_ms: overlap(flushes, worst.read, worst.called),
              previous_write_ms: round(Math.max(0, ...batches.filter((b) => b.done > worst.read && b.called < worst.called && b !== worst).map((b) => b.done - b.called))),
            },
    },
  }) + '\n',
);
