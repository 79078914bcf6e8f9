import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/engine/runner.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import type { PipelineSpec } from '../../src/core/pipeline.js';
import { CountingSource, DLQ, MemorySink, fakeRegistry, spec, transforms } from './fakes.js';

const transformsModule = new URL('./fake-transforms.ts', import.meta.url);

async function runWith(s: PipelineSpec, raw?: (i: number) => string) {
  const source = new CountingSource({ count: 3_000, raw: raw ?? ((i) => `{"n":${i},"user":"u${i % 7}"}`), key: (i) => (i % 3 === 0 ? `k${i % 11}` : undefined) });
  const sink = new MemorySink();
  const dlq = new MemorySink();
  const summary = await runPipeline({
    spec: s,
    registry: fakeRegistry({ source, sink, deadLetter: dlq }),
    checkpointStore: new MemoryCheckpointStore(),
    dataDir: '/x',
    transformsModule,
  }).done;
  const letters = dlq.values().map((l) => {
    const { time: _time, ...rest } = l as { time: string };
    return rest;
  });
  return { summary, written: sink.written, letters, acks: source.acks };
}

describe('worker threads', () => {
  it('produce the same output, dead letters and counts as the main thread', async () => {
    const chain = transforms(['scale', { factor: 3 }], ['reject-digit', { digit: 7 }], ['keep-multiple', { of: 2 }], ['busy', { rounds: 10 }]);
    const main = await runWith(spec({ deadLetter: DLQ, transforms: chain }));
    const workers = await runWith(spec({ deadLetter: DLQ, transforms: chain, workers: 2 }));
    expect(workers.summary.state).toBe('stopped');
    expect(workers.written).toEqual(main.written);
    expect(workers.letters).toEqual(main.letters);
    expect(workers.letters.length).toBeGreaterThan(0);
    const { elapsedMs: _a, rate: _b, workers: mainThreads, ...mainCounts } = main.summary;
    const { elapsedMs: _c, rate: _d, workers: workerThreads, ...workerCounts } = workers.summary;
    expect(workerCounts).toEqual(mainCounts);
    expect([mainThreads, workerThreads]).toEqual([0, 2]);
    expect(workers.acks[workers.acks.length - 1]).toBe(2_999);
  });

  it('keep string values, plain-text lines, malformed lines and keys as they were', async () => {
    const raw = (i: number) => (i === 5 ? 'not json' : `{"n":${i}}`);
    const chain = transforms(['parse'], ['to-text']);
    const main = await runWith(spec({ deadLetter: DLQ, transforms: chain }), raw);
    const workers = await runWith(spec({ deadLetter: DLQ, transforms: chain, workers: 1, parallelism: 2 }), raw);
    expect(main.written[0]).toBe('n=0');
    expect([...workers.written].sort()).toEqual([...main.written].sort());
    expect(workers.letters).toEqual(main.letters);
    expect(workers.letters[0]).toMatchObject({ record: 'not json', code: 'INVALID_INPUT' });
  });

  it('fail the run with a clear error when the transforms module cannot build the chain', async () => {
    const source = new CountingSource({ count: 10 });
    const sink = new MemorySink();
    const summary = await runPipeline({
      spec: spec({ workers: 1, transforms: transforms(['no-such']) }),
      registry: fakeRegistry({ source, sink }),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: '/x',
      transformsModule,
    }).done;
    expect(summary.state).toBe('failed');
    expect(summary.error?.message).toContain("unknown transform type 'no-such'");
    expect(sink.closed).toBe(true);
  });

  it('fail the run, acking nothing past the lost batch, when a worker thread dies', async () => {
    const source = new CountingSource({ count: 3_000 });
    const sink = new MemorySink();
    const store = new MemoryCheckpointStore();
    const summary = await runPipeline({
      spec: spec({ workers: 2, transforms: transforms(['crash-at', { at: 1_500 }]) }),
      registry: fakeRegistry({ source, sink }),
      checkpointStore: store,
      dataDir: '/x',
      transformsModule,
      checkpoint: { everyRecords: 100 },
    }).done;
    expect(summary.state).toBe('failed');
    expect(summary.error?.message).toContain('transform worker exited with code 3');
    expect(source.acks.every((p) => (p as number) < 1_500)).toBe(true);
    expect(((await store.load('test'))?.position as number | undefined) ?? -1).toBeLessThan(1_500);
    expect(sink.closed).toBe(true);
  });
});
