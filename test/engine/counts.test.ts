import { describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/engine/options.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import { runPipeline } from '../../src/engine/runner.js';
import { WireMetrics } from '../../src/observability/metrics.js';
import { CountingSource, DLQ, MemorySink, fakeRegistry, nonRetryable, spec, transforms } from './fakes.js';

/** in = out + dead-lettered + dropped + filtered + unconfirmed, each counted where it happens. */
function placed(s: RunSummary): number {
  return s.recordsOut + s.deadLettered + s.dropped + s.filtered + s.unconfirmed;
}

/** A sink that takes every write and cannot make any of it durable. */
class UnflushableSink extends MemorySink {
  override async flush(): Promise<void> {
    throw nonRetryable('disk gone');
  }
}

describe('run counts', () => {
  it('out counts only what a flush confirmed: a sink that took records but never flushed them has none out', async () => {
    const metrics = new WireMetrics();
    const handle = runPipeline({
      spec: spec({ batchSize: 10 }),
      registry: fakeRegistry({ source: new CountingSource({ count: 30 }), sink: new UnflushableSink() }),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: '/x',
      metrics,
    });
    const summary = await handle.done;
    expect(summary.state).toBe('failed');
    expect(summary).toMatchObject({ recordsIn: 30, recordsOut: 0, unconfirmed: 30 });
    // The metrics agree: the sink received 30 and sent (confirmed) none.
    const rendered = await metrics.render();
    expect(rendered).toMatch(/wire_component_received_records_total\{[^}]*component="sink"[^}]*\} 30/);
    expect(rendered).not.toMatch(/wire_component_sent_records_total\{[^}]*component="sink"/);
  });

  it('dead letters count once the dead-letter sink confirmed them', async () => {
    const summary = await runPipeline({
      spec: spec({ batchSize: 10, transforms: transforms(['reject-digit', { digit: 3 }]), deadLetter: DLQ }),
      registry: fakeRegistry({ source: new CountingSource({ count: 30 }), sink: new MemorySink(), deadLetter: new UnflushableSink() }),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: '/x',
    }).done;
    expect(summary.state).toBe('failed');
    // The sink's flush came first and succeeded; the dead-letter sink's three were never confirmed.
    expect(summary).toMatchObject({ recordsIn: 30, recordsOut: 27, deadLettered: 0, unconfirmed: 3 });
  });

  it('the identity holds on a completed run with every kind of outcome, and nothing is unconfirmed', async () => {
    const sink = new MemorySink();
    const dlq = new MemorySink();
    const summary = await runPipeline({
      spec: spec({ batchSize: 7, transforms: transforms(['keep-multiple', { of: 3 }], ['reject-digit', { digit: 6 }]), deadLetter: DLQ }),
      registry: fakeRegistry({ source: new CountingSource({ count: 1_000 }), sink, deadLetter: dlq }),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: '/x',
    }).done;
    expect(summary.cause).toBe('end');
    expect(summary.unconfirmed).toBe(0);
    expect(summary.recordsOut).toBe(sink.durable);
    expect(summary.deadLettered).toBe(dlq.durable);
    expect(placed(summary)).toBe(1_000);
  });

  it('the identity holds when a run fails midway: what was read and not placed is unconfirmed', async () => {
    const sink = new MemorySink({ failure: (batch) => (batch.some((r) => (r.value as { n: number }).n === 555) ? nonRetryable('refused') : undefined) });
    const summary = await runPipeline({
      spec: spec({ batchSize: 10, onError: 'fail', transforms: transforms(['keep-multiple', { of: 5 }]) }),
      registry: fakeRegistry({ source: new CountingSource({ count: 1_000 }), sink }),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: '/x',
      checkpoint: { everyRecords: 100 },
    }).done;
    expect(summary.state).toBe('failed');
    expect(summary.recordsOut).toBe(sink.durable);
    expect(summary.unconfirmed).toBeGreaterThan(0);
    expect(placed(summary)).toBe(summary.recordsIn);
  });
});
