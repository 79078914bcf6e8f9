import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/engine/runner.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import { CountingSource, MemorySink, fakeRegistry, spec, VirtualClock } from './fakes.js';

describe('rate_limit', () => {
  it('never lets more than burst + rate × elapsed records through (virtual time)', async () => {
    const clock = new VirtualClock();
    const source = new CountingSource({ count: 10_000 });
    const violations: string[] = [];
    const sink = new MemorySink({
      delay: async (batch) => {
        // Records written by now must have been admitted by the bucket: 1,000 burst + 1,000 per second.
        const admitted = sink.writtenCount + batch.length;
        if (admitted > 1_000 + clock.time) violations.push(`${admitted} records by ${clock.time} ms`);
      },
    });
    const summary = await runPipeline({
      spec: spec({ rateLimit: 1_000, batchSize: 100 }),
      registry: fakeRegistry({ source, sink }),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: '/x',
      clock,
    }).done;
    expect(summary.recordsOut).toBe(10_000);
    expect(violations).toEqual([]);
    // 9,000 records beyond the burst at 1,000/s: nine seconds of waiting, in 100 ms steps.
    expect(clock.slept.reduce((a, b) => a + b, 0)).toBe(9_000);
  });
});
