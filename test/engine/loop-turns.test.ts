import { describe, expect, it } from 'vitest';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import { runPipeline } from '../../src/engine/runner.js';
import { CountingSource, MemorySink, fakeRegistry, spec } from './fakes.js';

describe('the event loop during a run', () => {
  it('turns while a source that never waits feeds a sink that never waits (timers and sockets are served)', async () => {
    const count = 300_000;
    const handle = runPipeline({
      spec: spec({ batchSize: 1_000 }),
      registry: fakeRegistry({ source: new CountingSource({ count }), sink: new MemorySink() }),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: '/x',
    });
    // Queued behind the run's first promise callbacks: it runs only when the event loop turns.
    const seenAtFirstTurn = new Promise<number>((resolve) => setImmediate(() => resolve(handle.progress().recordsIn)));
    const summary = await handle.done;
    expect(summary.recordsIn).toBe(count);
    expect(await seenAtFirstTurn).toBeLessThan(count);
  });
});
