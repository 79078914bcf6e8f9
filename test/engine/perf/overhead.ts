// Prints the engine's own overhead and whether worker threads pay. Run: npx tsx test/engine/perf/overhead.ts
// Figures only (JSON lines); no assertion, this machine's speed drifts between runs.
import type { Sink, Source } from '../../../src/core/ports.js';
import { WireRecord, type Batch } from '../../../src/core/record.js';
import { MemoryCheckpointStore } from '../../../src/engine/memory-checkpoint-store.js';
import { runPipeline } from '../../../src/engine/runner.js';
import type { PipelineSpec } from '../../../src/core/pipeline.js';
import { fakeRegistry, spec, transforms } from '../fakes.js';

const BATCH = 1_000;

/** Yields the same prebuilt batch `batches` times: measures the engine, not record creation. */
function replaySource(batches: number, make: (i: number) => WireRecord): Source {
  const batch: Batch = Array.from({ length: BATCH }, (_, i) => make(i));
  return {
    open: async () => undefined,
    async *read() {
      for (let i = 0; i < batches; i++) yield batch;
    },
    ack: async () => undefined,
    close: async () => undefined,
  };
}

/** Builds fresh records from raw text per batch, like a file source does. */
function rawSource(batches: number): Source {
  const lines = Array.from({ length: BATCH }, (_, i) => `{"n":${i},"user":"user${i % 100}","amount":${i % 500},"ts":"2026-01-01T00:00:00Z"}`);
  return {
    open: async () => undefined,
    async *read() {
      for (let b = 0; b < batches; b++) {
        const batch: Batch = new Array(BATCH);
        for (let i = 0; i < BATCH; i++) batch[i] = WireRecord.fromRaw(lines[i]!, b * BATCH + i);
        yield batch;
      }
    },
    ack: async () => undefined,
    close: async () => undefined,
  };
}

function noopSink(): Sink & { count: number; firstAt: number; firstCount: number } {
  return {
    count: 0,
    firstAt: 0,
    firstCount: 0,
    open: async () => undefined,
    async write(batch) {
      if (this.count === 0) {
        this.firstAt = performance.now();
        this.firstCount = batch.length;
      }
      this.count += batch.length;
    },
    flush: async () => undefined,
    close: async () => undefined,
  };
}

async function engine(name: string, s: PipelineSpec, source: Source, records: number): Promise<number> {
  const sink = noopSink();
  const start = performance.now();
  const summary = await runPipeline({
    spec: s,
    registry: fakeRegistry({ source, sink }),
    checkpointStore: new MemoryCheckpointStore(),
    dataDir: '/tmp',
    transformsModule: new URL('../fake-transforms.ts', import.meta.url),
  }).done;
  const end = performance.now();
  const ms = end - start;
  if (summary.state !== 'stopped' || sink.count !== records * (summary.recordsOut / records)) throw new Error(`${name}: ${summary.error?.message}`);
  // From the first write on: worker start-up (tsx compiles the worker's TypeScript, ~1-2 s) is not throughput.
  const rate = Math.round(((sink.count - sink.firstCount) * 1000) / (end - sink.firstAt));
  console.log(JSON.stringify({ case: name, records, ms: Math.round(ms), startupMs: Math.round(sink.firstAt - start), recordsPerSecond: rate }));
  return rate;
}

/** The hand-written floor: the same async iteration and one awaited write per batch, no engine. */
async function baseline(source: Source, records: number): Promise<number> {
  const sink = noopSink();
  const start = performance.now();
  for await (const batch of source.read(BATCH)) await sink.write(batch);
  const ms = performance.now() - start;
  const rate = Math.round((records * 1000) / ms);
  console.log(JSON.stringify({ case: 'hand-written loop (no engine)', records, ms: Math.round(ms), recordsPerSecond: rate }));
  return rate;
}

const N = 5_000;
const records = N * BATCH;
const make = (i: number) => WireRecord.fromRaw(`{"n":${i}}`, i);
const base = await baseline(replaySource(N, make), records);
const one = await engine('engine pass-through, 1 lane, no-op source/sink', spec({ batchSize: BATCH }), replaySource(N, make), records);
const four = await engine('engine pass-through, 4 lanes (keyless)', spec({ batchSize: BATCH, parallelism: 4 }), replaySource(N, make), records);
const keyed = (i: number) => {
  const r = make(i);
  r.key = `k${i % 64}`;
  return r;
};
const fourKeyed = await engine('engine pass-through, 4 lanes keyed', spec({ batchSize: BATCH, parallelism: 4 }), replaySource(N, keyed), records);
console.log(JSON.stringify({ ratioToHandWritten: { oneLane: +(one / base).toFixed(2), fourLanes: +(four / base).toFixed(2), fourLanesKeyed: +(fourKeyed / base).toFixed(2) } }));

// Workers: a CPU-heavy chain (parse, compute, re-serialize on the way out) on 400k records.
const W = 1_000;
const chain = transforms(['busy', { rounds: 40 }], ['keep-multiple', { of: 1 }]);
const mainThread = await engine('busy chain, main thread', spec({ batchSize: BATCH, transforms: chain }), rawSource(W), W * BATCH);
const w1 = await engine('busy chain, 1 worker', spec({ batchSize: BATCH, transforms: chain, workers: 1 }), rawSource(W), W * BATCH);
const w2 = await engine('busy chain, 2 workers', spec({ batchSize: BATCH, transforms: chain, workers: 2 }), rawSource(W), W * BATCH);
const light = transforms(['scale', { factor: 2 }]);
const lightMain = await engine('light chain (parse+set), main thread', spec({ batchSize: BATCH, transforms: light }), rawSource(W), W * BATCH);
const lightW2 = await engine('light chain (parse+set), 2 workers', spec({ batchSize: BATCH, transforms: light, workers: 2 }), rawSource(W), W * BATCH);
console.log(
  JSON.stringify({ workersVsMainThread: { busy1: +(w1 / mainThread).toFixed(2), busy2: +(w2 / mainThread).toFixed(2), light2: +(lightW2 / lightMain).toFixed(2) } }),
);
