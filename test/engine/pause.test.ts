import { describe, expect, it, vi } from 'vitest';
import { runPipeline } from '../../src/engine/runner.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import { CountingSource, MemorySink, fakeRegistry, gate, spec, VirtualClock } from './fakes.js';

const BATCH = 100;

/** A few turns of the event loop and a few timers: time for a run that was going to read to do so. */
async function quietFor(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setTimeout(r, 5));
}

describe('pause and resume', () => {
  it('a paused run reads nothing, has checkpointed everything it read, and resumes where it paused: every record once, in order', async () => {
    let slow = gate();
    const source = new CountingSource({ count: 5_000 });
    // The sink waits while pause() arrives: several batches are read and not yet written.
    const sink = new MemorySink({ delay: () => slow.promise });
    const store = new MemoryCheckpointStore();
    const handle = runPipeline({ spec: spec(), registry: fakeRegistry({ source, sink }), checkpointStore: store, dataDir: '/x', clock: new VirtualClock() });
    await vi.waitFor(() => expect(handle.progress().inFlightBatches).toBeGreaterThan(2));
    const paused = handle.pause();
    slow.open();
    await paused;

    const read = handle.progress().recordsIn;
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(5_000);
    // Everything read is in the sink, durable, checkpointed and acknowledged.
    expect(handle.progress()).toMatchObject({ recordsOut: read, inFlightBatches: 0, unconfirmed: 0 });
    expect(sink.durable).toBe(read);
    expect(await store.load('test')).toMatchObject({ position: read - 1, sink: read });
    expect(source.acks[source.acks.length - 1]).toBe(read - 1);
    // At most the batch it had already asked for is taken from the source, and held unread.
    const produced = source.produced;
    expect(produced - read).toBeLessThanOrEqual(BATCH);

    slow = gate();
    slow.open();
    await quietFor(20);
    expect(source.produced).toBe(produced);
    expect(handle.progress().recordsIn).toBe(read);
    expect(sink.writtenCount).toBe(read);

    handle.resume();
    const summary = await handle.done;
    expect(summary).toMatchObject({ cause: 'end', recordsIn: 5_000, recordsOut: 5_000, checkpoint: 4_999 });
    // The same run went on: the source was opened once, from the start, and nothing was read twice.
    expect(source.opened?.from).toBeUndefined();
    expect(sink.values()).toEqual(Array.from({ length: 5_000 }, (_, n) => ({ n })));
  });

  it('pauses a source that is waiting for data without waiting for it, and reads on after resume', async () => {
    const arrived = gate();
    const more = gate();
    const source = new CountingSource({ count: 1_000, before: (i) => (i === 500 ? (arrived.open(), more.promise) : undefined) });
    const sink = new MemorySink();
    const store = new MemoryCheckpointStore();
    const handle = runPipeline({ spec: spec(), registry: fakeRegistry({ source, sink }), checkpointStore: store, dataDir: '/x', clock: new VirtualClock() });
    await arrived.promise;
    await handle.pause();
    expect(sink.durable).toBe(500);
    expect(await store.load('test')).toMatchObject({ position: 499, sink: 500 });
    // The data the source was waiting for comes while paused: it is held, not written, until resume.
    more.open();
    await quietFor(20);
    expect(handle.progress().recordsIn).toBe(500);
    expect(sink.writtenCount).toBe(500);
    handle.resume();
    expect(await handle.done).toMatchObject({ cause: 'end', recordsOut: 1_000, checkpoint: 999 });
    expect(sink.values()).toEqual(Array.from({ length: 1_000 }, (_, n) => ({ n })));
  });

  it('a stop while paused ends at the pause checkpoint; the next run reads on from it, nothing lost or repeated', async () => {
    const arrived = gate();
    const source = new CountingSource({ count: 1_000, before: (i) => (i === 300 ? arrived.open() : undefined) });
    const sink = new MemorySink();
    const store = new MemoryCheckpointStore();
    const first = runPipeline({ spec: spec(), registry: fakeRegistry({ source, sink }), checkpointStore: store, dataDir: '/x', clock: new VirtualClock() });
    await arrived.promise;
    await first.pause();
    const read = first.progress().recordsIn;
    first.stop();
    const summary = await first.done;
    expect(summary).toMatchObject({ cause: 'stop', recordsIn: read, recordsOut: read, checkpoint: read - 1 });
    expect(source.closed && sink.closed).toBe(true);

    const again = new CountingSource({ count: 1_000 });
    const second = runPipeline({ spec: spec(), registry: fakeRegistry({ source: again, sink }), checkpointStore: store, dataDir: '/x', clock: new VirtualClock() });
    expect(await second.done).toMatchObject({ cause: 'end', recordsIn: 1_000 - read });
    expect(sink.values()).toEqual(Array.from({ length: 1_000 }, (_, n) => ({ n })));
  });

  it('a run paused before it has opened starts paused: it opens, reads nothing, and reads once resumed', async () => {
    const source = new CountingSource({ count: 1_000 });
    const sink = new MemorySink();
    const handle = runPipeline({ spec: spec(), registry: fakeRegistry({ source, sink }), checkpointStore: new MemoryCheckpointStore(), dataDir: '/x', clock: new VirtualClock() });
    await handle.pause();
    expect(source.opened).toBeDefined();
    await quietFor(10);
    expect(source.produced).toBe(0);
    handle.resume();
    expect(await handle.done).toMatchObject({ cause: 'end', recordsOut: 1_000 });
  });

  it('kill() while paused ends the run at once', async () => {
    const source = new CountingSource({ count: 1_000 });
    const handle = runPipeline({ spec: spec(), registry: fakeRegistry({ source, sink: new MemorySink() }), checkpointStore: new MemoryCheckpointStore(), dataDir: '/x', clock: new VirtualClock() });
    await handle.pause();
    handle.kill();
    expect(await handle.done).toMatchObject({ cause: 'kill', recordsIn: 0 });
    expect(source.closed).toBe(true);
  });
});
