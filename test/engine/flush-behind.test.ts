// Checkpoints with a sink that flushes behind the writes (`Sink.flushBehind`): the sync never holds the writes up.
import { describe, expect, it } from 'vitest';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import { runPipeline } from '../../src/engine/runner.js';
import { CountingSource, GatedFlushSink, fakeRegistry, spec } from './fakes.js';
import { waitFor } from '../connectors/helpers.js';

describe('checkpoints with a sink that flushes behind the writes', () => {
  it('writes every record while the first checkpoint still syncs, one sync at a time, and saves what each sync covered', async () => {
    const sink = new GatedFlushSink();
    const source = new CountingSource({ count: 5_000 });
    const store = new MemoryCheckpointStore();
    const handle = runPipeline({
      spec: spec(),
      registry: fakeRegistry({ source, sink }),
      checkpointStore: store,
      dataDir: '/x',
      checkpoint: { everyRecords: 100 },
    });
    await waitFor(() => sink.gates.length === 1, 'the first checkpoint to start its sync');
    await waitFor(() => sink.writtenCount === 5_000, 'every record to be written');
    // Checkpoints fell due all along, but none started another sync while the first was under way.
    expect(sink.flushes).toBe(1);
    const covered = sink.covered[0]!;
    expect(covered).toBeLessThan(5_000);
    sink.gates[0]!();
    await waitFor(() => source.acks.length === 1, 'the first checkpoint to be saved');
    expect(source.acks[0]).toBe(covered - 1);
    expect((await store.load('test'))?.sink).toBe(covered);
    // The run's last checkpoint covers the rest.
    const release = setInterval(() => sink.gates.slice(1).forEach((open) => open()), 1);
    try {
      const summary = await handle.done;
      expect(summary).toMatchObject({ state: 'stopped', recordsOut: 5_000, checkpoint: 4_999 });
    } finally {
      clearInterval(release);
    }
    expect(sink.durable).toBe(5_000);
    expect((await store.load('test'))?.sink).toBe(5_000);
  });
});
