import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, vi } from 'vitest';
import { runPipeline } from '../../src/engine/runner.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import type { Checkpoint } from '../../src/core/ports.js';
import type { Batch } from '../../src/core/record.js';
import { jsDefinition } from '../../src/transforms/js.js';
import { keyDefinition } from '../../src/transforms/key.js';
import { CountingSource, DLQ, MemorySink, fakeRegistry, gate, spec, transformDefinition, transforms, VirtualClock } from './fakes.js';

const delayModule = fileURLToPath(new URL('./fixtures/js-delay.mjs', import.meta.url));
const runtimeModule = new URL('../../src/transforms/runtime.ts', import.meta.url);

/** Per key, the `n`s out of order: each is smaller than one written before it with the same key. */
function orderViolations(values: { n: number; k: string }[]): number {
  const last = new Map<string, number>();
  let violations = 0;
  for (const v of values) {
    if (v.n < (last.get(v.k) ?? -1)) violations++;
    last.set(v.k, Math.max(v.n, last.get(v.k) ?? -1));
  }
  return violations;
}

/**
 * Checks, at every save, that the sink's saved state is exact: its first `checkpoint.sink` records are the
 * records up to the saved position, each once, and none after it. A restart truncates to that state and
 * replays from the position, so anything else is a lost or a duplicated record.
 */
class CheckingStore extends MemoryCheckpointStore {
  violations: string[] = [];
  constructor(private readonly sink: MemorySink) {
    super();
  }
  override async save(key: string, checkpoint: Checkpoint): Promise<void> {
    const through = checkpoint.position === null ? -1 : (checkpoint.position as number);
    const length = checkpoint.sink as number;
    if (length > this.sink.durable) this.violations.push(`checkpoint ${through}: state ${length} is past the durable ${this.sink.durable}`);
    const kept = this.sink.written.slice(0, length).map((t) => (JSON.parse(t) as { n: number }).n);
    const expected = Array.from({ length: through + 1 }, (_, n) => n);
    if (JSON.stringify([...kept].sort((a, b) => a - b)) !== JSON.stringify(expected)) {
      const after = kept.filter((n) => n > through).length;
      this.violations.push(`checkpoint ${through}: the sink's saved ${kept.length} records hold ${after} past the position`);
    }
    await super.save(key, checkpoint);
  }
}

/** An async transform that takes a different number of turns per batch, so lanes overtake one another. */
function jitterTransform() {
  let turn = 0;
  return transformDefinition('jitter', {
    async process(batch: Batch) {
      const turns = (turn++ * 7) % 5;
      for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
      return batch;
    },
  }, { keepsKey: true });
}

describe('lanes', () => {
  it('acks only the highest contiguous completed batch when lanes finish out of order', async () => {
    const held = gate();
    const hold = transformDefinition('hold', {
      process: (batch: Batch) => ((batch[0]!.value as { n: number }).n === 0 ? held.promise.then(() => batch) : batch),
    }, { keepsKey: true });
    const source = new CountingSource({ count: 2_000 });
    const sink = new MemorySink();
    const store = new CheckingStore(sink);
    const handle = runPipeline({
      spec: spec({ parallelism: 2, transforms: transforms(['hold']) }),
      registry: fakeRegistry({ source, sink }, [hold]),
      checkpointStore: store,
      dataDir: '/nonexistent',
      clock: new VirtualClock(),
      checkpoint: { everyRecords: 1 },
      maxInFlightBatches: 8,
    });
    // Keyless batches alternate lanes: lane 0 holds batch 0 (and 2, 4, 6 behind it); lane 1 writes 1, then
    // holds 3, 5, 7 back: a checkpoint is due and waits for the sink to hold exactly a prefix.
    await vi.waitFor(() => expect(handle.progress().inFlightBatches).toBe(8));
    expect(sink.writtenCount).toBe(100);
    expect(source.produced).toBeLessThanOrEqual(900);
    expect(source.acks).toEqual([]);
    expect(store.history.map((h) => h.checkpoint.position)).toEqual([null]);
    held.open();
    const summary = await handle.done;
    expect(summary).toMatchObject({ state: 'stopped', recordsOut: 2_000, checkpoint: 1_999 });
    expect(store.violations).toEqual([]);
    expect(source.acks.length).toBeGreaterThan(1);
    expect(source.acks[source.acks.length - 1]).toBe(1_999);
    expect(new Set(sink.values().map((v) => (v as { n: number }).n)).size).toBe(2_000);
  });

  for (const keyed of [true, false]) {
    it(`saves a checkpoint only when the sink holds exactly the records up to its position (${keyed ? 'batches split by key' : 'whole batches per lane'})`, async () => {
      // Lanes overtake one another: a later batch, or one lane's share of a split batch, is often written first.
      const jitter = jitterTransform();
      const source = new CountingSource({ count: 20_000, ...(keyed ? { key: (i: number) => `k${(i * 31) % 97}` } : {}) });
      const sink = new MemorySink();
      const store = new CheckingStore(sink);
      const summary = await runPipeline({
        spec: spec({ parallelism: 4, batchSize: 250, transforms: transforms(['jitter']) }),
        registry: fakeRegistry({ source, sink }, [jitter]),
        checkpointStore: store,
        dataDir: '/nonexistent',
        checkpoint: { everyRecords: 1 },
      }).done;
      expect(summary).toMatchObject({ state: 'stopped', recordsOut: 20_000, checkpoint: 19_999 });
      expect(store.violations).toEqual([]);
      // Checkpoints kept coming while lanes overtook one another (waiting for an exact moment did not starve them).
      expect(store.history.length).toBeGreaterThan(20);
      expect(new Set(sink.values().map((v) => (v as { n: number }).n)).size).toBe(20_000);
    });
  }

  it('keeps per-key order with parallelism 4 while lanes interleave', async () => {
    const jitter = jitterTransform();
    const source = new CountingSource({ count: 20_000, key: (i) => `user-${(i * 31) % 97}`, raw: (i) => `{"n":${i},"k":"user-${(i * 31) % 97}"}` });
    const sink = new MemorySink();
    const summary = await runPipeline({
      spec: spec({ parallelism: 4, batchSize: 250, transforms: transforms(['jitter']) }),
      registry: fakeRegistry({ source, sink }, [jitter]),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: '/nonexistent',
    }).done;
    expect(summary.recordsOut).toBe(20_000);
    const values = sink.values() as { n: number; k: string }[];
    const byKey = new Map<string, number[]>();
    for (const v of values) byKey.set(v.k, [...(byKey.get(v.k) ?? []), v.n]);
    for (const ns of byKey.values()) expect(ns).toEqual([...ns].sort((a, b) => a - b));
    // The lanes did interleave: the sink's global order is not the source's.
    expect(values.map((v) => v.n)).not.toEqual(Array.from({ length: 20_000 }, (_, i) => i));
    expect(new Set(values.map((v) => v.n)).size).toBe(20_000);
  });

  it('keeps order per key when a transform sets the key', async () => {
    const source = new CountingSource({ count: 5_000, raw: (i) => `{"n":${i},"k":"g${i % 13}"}` });
    const sink = new MemorySink();
    await runPipeline({
      spec: spec({ parallelism: 3, transforms: transforms(['key-from', { field: 'k' }]) }),
      registry: fakeRegistry({ source, sink }),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: '/nonexistent',
    }).done;
    const values = sink.values() as { n: number; k: string }[];
    expect(values).toHaveLength(5_000);
    const last = new Map<string, number>();
    for (const v of values) {
      expect(v.n).toBeGreaterThan(last.get(v.k) ?? -1);
      last.set(v.k, v.n);
    }
  });

  it('routed after the chain, a batch still delivers its dead letters and counts once, even with no record left', async () => {
    const source = new CountingSource({ count: 3_000, raw: (i) => `{"n":${i},"k":"g${i % 5}"}` });
    const sink = new MemorySink();
    const dlq = new MemorySink();
    const summary = await runPipeline({
      // key-from sets keys (so the chain runs before lanes are chosen); most batches keep no record at all.
      spec: spec({
        parallelism: 3,
        deadLetter: DLQ,
        transforms: transforms(['key-from', { field: 'k' }], ['reject-digit', { digit: 3 }], ['keep-multiple', { of: 1_000 }]),
      }),
      registry: fakeRegistry({ source, sink, deadLetter: dlq }),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: '/nonexistent',
    }).done;
    expect(summary).toMatchObject({ state: 'stopped', recordsIn: 3_000, recordsOut: 3, deadLettered: 300, errors: 300, filtered: 2_697, checkpoint: 2_999 });
    expect(sink.values()).toEqual([0, 1_000, 2_000].map((n) => ({ n, k: `g${n % 5}` })));
    expect(dlq.writtenCount).toBe(300);
  });

  // The source gives no key: the `key` transform sets it, and an async js transform after it finishes batches
  // out of order. Lanes chosen before the chain would let one key's records overtake one another.
  const key = { type: 'key', config: { expr: 'k' } };
  const js = { type: 'js', config: { module: delayModule } };
  for (const [workers, chain, order] of [
    [0, [key, js], 'key, then js'],
    [2, [key, js], 'key, then js'],
    [0, [js, key], 'js, then key'],
  ] as const) {
    it(`routes by the key the chain set: per-key order holds with an async js transform (${order}; workers: ${workers})`, { timeout: 60_000 }, async () => {
      const count = 20_000;
      const source = new CountingSource({ count, raw: (i) => `{"n":${i},"k":"g${(i * 7) % 11}"}` });
      const sink = new MemorySink();
      const summary = await runPipeline({
        spec: spec({
          parallelism: 4,
          workers,
          batchSize: 200,
          transforms: [...chain],
        }),
        registry: fakeRegistry({ source, sink }, [keyDefinition, jsDefinition]),
        checkpointStore: new MemoryCheckpointStore(),
        dataDir: '/nonexistent',
        transformsModule: runtimeModule,
      }).done;
      expect(summary).toMatchObject({ state: 'stopped', recordsOut: count, workers });
      const values = sink.values() as { n: number; k: string }[];
      expect(new Set(values.map((v) => v.n)).size).toBe(count);
      expect(orderViolations(values)).toBe(0);
    });
  }
});

// A full collection before each heap sample, so the figure is what is retained, not garbage not yet collected.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('backpressure', () => {
  it('keeps records in flight bounded by the window with a slow sink and 5M records', async () => {
    const batchSize = 1_000;
    const window = 6;
    let maxInFlight = 0;
    let maxHeap = 0;
    const source = new CountingSource({ count: 5_000_000 });
    const sink = new MemorySink({
      countOnly: true,
      delay: async () => {
        maxInFlight = Math.max(maxInFlight, source.produced - sink.writtenCount);
        if (sink.writes % 1_000 === 0) {
          gc();
          maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed);
        }
        await new Promise<void>((resolve) => setImmediate(resolve));
      },
    });
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const summary = await runPipeline({
      spec: spec({ batchSize }),
      registry: fakeRegistry({ source, sink }),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: '/nonexistent',
      maxInFlightBatches: window,
    }).done;
    expect(summary.recordsOut).toBe(5_000_000);
    // The window's batches plus the one the reader holds while it waits for room.
    expect(maxInFlight).toBeLessThanOrEqual((window + 1) * batchSize);
    expect(maxInFlight).toBeGreaterThanOrEqual(batchSize);
    // Unbounded, 5M records would hold hundreds of MB; bounded, a few batches.
    expect(maxHeap - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });
});
