import { describe, expect, it, vi } from 'vitest';
import { runPipeline } from '../../src/engine/runner.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import type { Batch } from '../../src/core/record.js';
import type { RunOptions } from '../../src/engine/options.js';
import { CountingSource, DLQ, MemorySink, fakeRegistry, gate, spec, transformDefinition, transforms, VirtualClock } from './fakes.js';

/** A source that, like a live one, waits at index `at` for more data until the pipeline stops it. */
function liveSource(count: number, at: number, onWait?: () => void): CountingSource {
  const source: CountingSource = new CountingSource({
    count,
    before: async (i) => {
      if (i !== at) return;
      onWait?.();
      const signal = source.signal!;
      if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    },
  });
  return source;
}

describe('stop and kill', () => {
  it('stop() drains what is in flight, flushes, checkpoints and closes', async () => {
    const release = gate();
    const source = new CountingSource({ count: 10_000 });
    // The sink is slow while stop() arrives: several batches are read but not yet written.
    const sink = new MemorySink({ delay: () => release.promise });
    const store = new MemoryCheckpointStore();
    const handle = runPipeline({ spec: spec(), registry: fakeRegistry({ source, sink }), checkpointStore: store, dataDir: '/x', clock: new VirtualClock() });
    await vi.waitFor(() => expect(handle.progress().inFlightBatches).toBeGreaterThan(2));
    handle.stop();
    release.open();
    const summary = await handle.done;
    expect(summary).toMatchObject({ state: 'stopped', cause: 'stop' });
    expect(summary.recordsIn).toBeLessThan(10_000);
    expect(summary.recordsOut).toBe(summary.recordsIn);
    expect(sink.durable).toBe(summary.recordsIn);
    expect(summary.checkpoint).toBe(summary.recordsIn - 1);
    expect(source.acks[source.acks.length - 1]).toBe(summary.recordsIn - 1);
    expect(await store.load('test')).toMatchObject({ position: summary.recordsIn - 1, sink: summary.recordsIn });
    expect(source.closed && sink.closed).toBe(true);
  });

  it('stop() ends a source that is waiting for data', async () => {
    const waiting = gate();
    const source = liveSource(1_000, 500, waiting.open);
    const sink = new MemorySink();
    const handle = runPipeline({ spec: spec(), registry: fakeRegistry({ source, sink }), checkpointStore: new MemoryCheckpointStore(), dataDir: '/x' });
    await waiting.promise;
    await vi.waitFor(() => expect(sink.writtenCount).toBe(500));
    handle.stop();
    const summary = await handle.done;
    expect(summary).toMatchObject({ cause: 'stop', recordsOut: 500, checkpoint: 499 });
  });

  it('kill() stops at once: no write completes after it and nothing is acked past what is durable', async () => {
    const never = gate();
    let writes = 0;
    const source = new CountingSource({ count: 10_000 });
    const sink = new MemorySink({ delay: () => (++writes === 4 ? never.promise : Promise.resolve()) });
    const store = new MemoryCheckpointStore();
    const handle = runPipeline({
      spec: spec(),
      registry: fakeRegistry({ source, sink }),
      checkpointStore: store,
      dataDir: '/x',
      clock: new VirtualClock(),
      checkpoint: { everyRecords: 100 },
    });
    await vi.waitFor(() => expect(writes).toBe(4));
    // The reader lets the event loop turn as it goes, so the third write may or may not be counted yet: whatever
    // was counted at the kill is all there is, and the stuck fourth is never counted.
    const counted = handle.progress().recordsOut;
    handle.kill();
    const summary = await handle.done;
    expect(summary).toMatchObject({ state: 'stopped', cause: 'kill', recordsOut: counted });
    expect(counted).toBeLessThanOrEqual(300);
    const saved = (await store.load('test'))!;
    expect(saved.position as number).toBeLessThanOrEqual(299);
    expect(saved.sink as number).toBeLessThanOrEqual(sink.durable);
    expect(source.closed && sink.closed).toBe(true);
  });

  it('kill() during a backoff ends the run without waiting for it', async () => {
    const source = new CountingSource({ count: 1_000 });
    const sink = new MemorySink({ failure: () => new Error('down') });
    const handle = runPipeline({
      spec: spec({ onError: 'fail', retry: { maxAttempts: 1_000, initialMs: 60_000, maxMs: 60_000 } }),
      registry: fakeRegistry({ source, sink }),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: '/x',
      random: () => 1,
    });
    await vi.waitFor(() => expect(sink.attempts).toBe(1));
    handle.kill();
    const summary = await handle.done;
    expect(summary).toMatchObject({ cause: 'kill', recordsOut: 0 });
    expect(sink.attempts).toBe(1);
  });
});

/** A run whose one worker thread spins for good on record 250, with a 300 ms stop deadline. */
function stuckWorkerRun(source: CountingSource, sink: MemorySink): RunOptions {
  return {
    spec: spec({ workers: 1, transforms: transforms(['spin-at', { at: 250 }]) }),
    registry: fakeRegistry({ source, sink }),
    checkpointStore: new MemoryCheckpointStore(),
    dataDir: '/x',
    transformsModule: new URL('./fake-transforms.ts', import.meta.url),
    stopTimeoutMs: 300,
  };
}

type Letter = { error: string; code?: string; stage: string; record: { n: number } };

/** A transform whose promise never settles for the batch holding record `at`; other batches pass at once. */
function stuckAt(at: number) {
  return transformDefinition('stuck', {
    process: (batch: Batch) => (batch.some((r) => (r.value as { n: number }).n === at) ? new Promise<Batch>(() => undefined) : batch),
  });
}

describe('transform_timeout', () => {
  it('a batch whose transform never answers goes to the dead letter with TIMEOUT, and the rest flows', async () => {
    const source = new CountingSource({ count: 1_000 });
    const sink = new MemorySink();
    const dlq = new MemorySink();
    const summary = await runPipeline({
      spec: spec({ deadLetter: DLQ, transforms: transforms(['stuck']), transformTimeoutMs: 200 }),
      registry: fakeRegistry({ source, sink, deadLetter: dlq }, [stuckAt(450)]),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: '/x',
    }).done;
    expect(summary).toMatchObject({ state: 'stopped', cause: 'end', recordsOut: 900, deadLettered: 100, checkpoint: 999 });
    const letters = dlq.values() as Letter[];
    expect(letters.map((l) => l.record.n)).toEqual(Array.from({ length: 100 }, (_, i) => 400 + i));
    expect(letters[0]).toMatchObject({ code: 'TIMEOUT', stage: 'transforms.0' });
    expect(letters[0]!.error).toMatch(/transforms\.0 \(stuck\) did not finish a batch of 100 within 200 ms/);
  });

  it('stop() while a transform never answers ends once the batch times out', async () => {
    const source = liveSource(1_000, 500);
    const sink = new MemorySink();
    const dlq = new MemorySink();
    const handle = runPipeline({
      spec: spec({ deadLetter: DLQ, transforms: transforms(['stuck']), transformTimeoutMs: 300 }),
      registry: fakeRegistry({ source, sink, deadLetter: dlq }, [stuckAt(250)]),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: '/x',
    });
    await vi.waitFor(() => expect(sink.writtenCount).toBe(200));
    handle.stop();
    const summary = await handle.done;
    expect(summary).toMatchObject({ cause: 'stop', deadLettered: 100, checkpoint: summary.recordsIn - 1 });
    expect(summary.recordsOut).toBe(summary.recordsIn - 100);
  });
});

describe('stop deadline', () => {
  it('a stop that cannot drain becomes a kill once the stop timeout passes', async () => {
    const source = liveSource(1_000, 500);
    const sink = new MemorySink();
    const handle = runPipeline({
      spec: spec({ transforms: transforms(['stuck']), transformTimeoutMs: 600_000 }),
      registry: fakeRegistry({ source, sink }, [stuckAt(250)]),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: '/x',
      stopTimeoutMs: 200,
    });
    await vi.waitFor(() => expect(sink.writtenCount).toBe(200));
    handle.stop();
    const summary = await handle.done;
    expect(summary).toMatchObject({ state: 'stopped', cause: 'kill' });
    // Out is what a flush confirmed; the rest the sink took is unconfirmed, not out.
    expect(summary.recordsOut).toBe(sink.durable);
    expect(summary.unconfirmed).toBe(summary.recordsIn - sink.durable);
    expect(summary.checkpoint ?? -1).toBeLessThanOrEqual(199);
    expect(source.closed && sink.closed).toBe(true);
  });

  it('a stop while a worker thread is stuck for good ends: the worker is terminated', { timeout: 60_000 }, async () => {
    const source = liveSource(1_000, 500);
    const sink = new MemorySink();
    const handle = runPipeline(stuckWorkerRun(source, sink));
    await vi.waitFor(() => expect(sink.writtenCount).toBe(200), { timeout: 30_000 });
    handle.stop();
    const summary = await handle.done;
    expect(summary).toMatchObject({ state: 'stopped', cause: 'kill', workers: 1 });
    expect(summary.recordsOut).toBe(sink.durable);
    expect(summary.unconfirmed).toBe(summary.recordsIn - sink.durable);
  });

  it('a run that fails while a worker thread is stuck for good ends, failed, with its error', { timeout: 60_000 }, async () => {
    const sink = new MemorySink();
    // The source fails once the lane waits on the stuck batch (records 200-299), not before.
    const source = new CountingSource({
      count: 1_000,
      before: async (i) => {
        if (i !== 500) return;
        await vi.waitFor(() => expect(sink.writtenCount).toBe(200), { timeout: 30_000 });
        throw new Error('source broke');
      },
    });
    const summary = await runPipeline(stuckWorkerRun(source, sink)).done;
    expect(summary).toMatchObject({ state: 'failed', cause: 'error' });
    expect(summary.recordsOut).toBe(sink.durable);
    expect(summary.unconfirmed).toBe(summary.recordsIn - sink.durable);
    expect(summary.error?.message).toBe('source broke');
  });
});

describe('checkpoint resume', () => {
  it('a second run resumes from the checkpoint: every record once, in order', async () => {
    const store = new MemoryCheckpointStore();
    const sink = new MemorySink();
    const ref: { handle?: ReturnType<typeof runPipeline> } = {};
    const first = new CountingSource({ count: 5_000, before: (i) => (i === 2_000 ? ref.handle!.stop() : undefined) });
    const handle = runPipeline({ spec: spec(), registry: fakeRegistry({ source: first, sink }), checkpointStore: store, dataDir: '/x' });
    ref.handle = handle;
    const one = await handle.done;
    expect(one).toMatchObject({ cause: 'stop', recordsOut: 2_000, checkpoint: 1_999 });

    const second = new CountingSource({ count: 5_000 });
    const two = await runPipeline({ spec: spec(), registry: fakeRegistry({ source: second, sink }), checkpointStore: store, dataDir: '/x' }).done;
    expect(second.opened?.from).toBe(1_999);
    expect(sink.openedWith?.committed).toBe(2_000);
    expect(two).toMatchObject({ cause: 'end', recordsIn: 3_000, checkpoint: 4_999 });
    expect(sink.values()).toEqual(Array.from({ length: 5_000 }, (_, n) => ({ n })));
  });

  it('after a kill, the rerun truncates the sink to the checkpoint and loses nothing', async () => {
    const store = new MemoryCheckpointStore();
    let writes = 0;
    const never = gate();
    const sink = new MemorySink({ delay: () => (++writes === 25 ? never.promise : Promise.resolve()) });
    const first = new CountingSource({ count: 5_000 });
    const handle = runPipeline({
      spec: spec(),
      registry: fakeRegistry({ source: first, sink }),
      checkpointStore: store,
      dataDir: '/x',
      clock: new VirtualClock(),
      checkpoint: { everyRecords: 1_000 },
    });
    await vi.waitFor(() => expect(writes).toBe(25));
    handle.kill();
    await handle.done;
    // Written past the last checkpoint, never acknowledged: the restart must not keep a second copy.
    expect(sink.writtenCount).toBeGreaterThan(sink.durable);

    const second = new CountingSource({ count: 5_000 });
    const sink2 = sink;
    const resumed = await runPipeline({
      spec: spec(),
      registry: fakeRegistry({ source: second, sink: new MemorySinkProxy(sink2) }),
      checkpointStore: store,
      dataDir: '/x',
    }).done;
    expect(resumed.state).toBe('stopped');
    expect(sink2.values()).toEqual(Array.from({ length: 5_000 }, (_, n) => ({ n })));
  });

  it('fromStart ignores and deletes the stored checkpoint', async () => {
    const store = new MemoryCheckpointStore();
    await store.save('test', { position: 10, sink: 11, updatedAt: 1 });
    const source = new CountingSource({ count: 50 });
    const sink = new MemorySink();
    const summary = await runPipeline({ spec: spec(), registry: fakeRegistry({ source, sink }), checkpointStore: store, dataDir: '/x', fromStart: true }).done;
    expect(source.opened?.from).toBeUndefined();
    expect(sink.openedWith?.committed).toBeUndefined();
    expect(summary.recordsOut).toBe(50);
    expect((await store.load('test'))?.position).toBe(49);
  });
});

/** The same sink, without the first run's delay: the second run's writes all go through. */
class MemorySinkProxy extends MemorySink {
  constructor(private readonly target: MemorySink) {
    super();
  }
  override open = (o: Parameters<MemorySink['open']>[0]) => this.target.open(o);
  override write = async (batch: Batch) => {
    this.target.written.push(...batch.map((r) => r.text()));
    this.target.writtenCount += batch.length;
  };
  override flush = () => this.target.flush();
  override checkpoint = () => this.target.checkpoint();
}
