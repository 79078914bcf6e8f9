import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/engine/runner.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import { CountingSource, MemorySink, fakeRegistry, spec, VirtualClock } from './fakes.js';

/** Runs `count` records at `rate` on virtual time; returns the summary and each write's count against the clock. */
async function paced(count: number, rate: number, batchSize: number) {
  const clock = new VirtualClock();
  const source = new CountingSource({ count });
  const violations: string[] = [];
  const sink = new MemorySink({
    delay: async (batch) => {
      // Records written by now were let in by the limiter: the first at once, then one per 1000 / rate ms.
      const admitted = sink.writtenCount + batch.length;
      if (admitted > 1 + (clock.time * rate) / 1000 + 1e-6) violations.push(`${admitted} records by ${clock.time} ms`);
    },
  });
  const summary = await runPipeline({
    spec: spec({ rateLimit: rate, batchSize }),
    registry: fakeRegistry({ source, sink }),
    checkpointStore: new MemoryCheckpointStore(),
    dataDir: '/x',
    clock,
  }).done;
  return { summary, violations, clock };
}

describe('rate_limit', () => {
  it('never lets more than 1 + rate × elapsed records through (virtual time)', async () => {
    const { summary, violations, clock } = await paced(10_000, 1_000, 100);
    expect(summary.recordsOut).toBe(10_000);
    expect(violations).toEqual([]);
    // 9,999 records after the first at 1,000/s.
    expect(clock.time).toBe(9_999);
  });

  it('holds from the first record: a first batch larger than the rate waits its turn too', async () => {
    // The case: rate_limit 20 on 200 records in one batch went through at once.
    const { summary, violations, clock } = await paced(200, 20, 500);
    expect(summary.recordsOut).toBe(200);
    expect(violations).toEqual([]);
    expect(clock.time).toBe(9_950);
  });
});
