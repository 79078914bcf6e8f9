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
const readAt = new Float64Array(records);
const latencies = new Float64Array(records);
let written = 0;
/** Per batch written: milliseconds from its read to the sink's write called, and in that write. */
const waits: number[] = [];
const writes: number[] = [];
const flushes: number[] = [];
const gcs: number[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcs.push(entry.duration);
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
    waits.push(called - readAt[Number(batch[0]!.position)]!);
    writes.push(now - called);
    for (const record of batch) latencies[written++] = now - readAt[Number(record.position)]!;
  };
  const flushBehind = sink.flushBehind?.bind(sink);
  if (flushBehind !== undefined) {
    sink.flushBehind = () => {
      const started = performance.now();
      const flush = flushBehind();
      void flush.durable.then(() => flushes.push(performance.now() - started), () => undefined);
      return flush;
    };
  }
  const flush = sink.flush.bind(sink);
  sink.flush = async (): Promise<void> => {
    const started = performance.now();
    await flush();
    flushes.push(performance.now() - started);
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
const sorted = latencies.subarray(0, written).sort();
const at = (q: number): number => sorted[Math.min(written - 1, Math.floor(q * written))] ?? NaN;
const round = (n: number): number => Number(n.toFixed(3));
const p99 = (values: number[]): number => round(values.sort((a, b) => a - b)[Math.floor(0.99 * (values.length - 1))] ?? NaN);
process.stdout.write(
  JSON.stringify({
    records: written,
    seconds: summary.elapsedMs / 1000,
    p50_ms: round(at(0.5)),
    p99_ms: round(at(0.99)),
    max_ms: round(sorted[written - 1] ?? NaN),
    stages: {
      batches: writes.length,
      wait_p99_ms: p99(waits),
      write_p99_ms: p99(writes),
      gc_count: gcs.length,
      gc_max_ms: round(Math.max(0, ...gcs)),
      flushes: flushes.length,
      flush_max_ms: round(Math.max(0, ...flushes)),
    },
  }) + '\n',
);
