import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/engine/runner.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import type { RunOptions } from '../../src/engine/options.js';
import { WireMetrics } from '../../src/observability/metrics.js';
import { CountingSource, DLQ, MemorySink, fakeRegistry, spec, transforms, VirtualClock } from './fakes.js';

function options(o: Partial<RunOptions> & Pick<RunOptions, 'spec' | 'registry'>): RunOptions {
  return { checkpointStore: new MemoryCheckpointStore(), dataDir: '/nonexistent', clock: new VirtualClock(), random: () => 0.5, ...o };
}

describe('runPipeline', () => {
  it('moves every record from source to sink in order and acks the last position', async () => {
    const source = new CountingSource({ count: 1_050 });
    const sink = new MemorySink();
    const store = new MemoryCheckpointStore();
    const summary = await runPipeline(options({ spec: spec(), registry: fakeRegistry({ source, sink }), checkpointStore: store })).done;
    expect(summary).toMatchObject({ state: 'stopped', cause: 'end', recordsIn: 1_050, recordsOut: 1_050, checkpoint: 1_049 });
    expect(sink.values()).toEqual(Array.from({ length: 1_050 }, (_, n) => ({ n })));
    expect(source.acks[source.acks.length - 1]).toBe(1_049);
    expect((await store.load('test'))?.position).toBe(1_049);
    expect((await store.load('test'))?.sink).toBe(1_050);
    expect(source.closed && sink.closed).toBe(true);
  });

  it('passes raw text through untouched when no transform changes a record', async () => {
    const source = new CountingSource({ count: 3, raw: (i) => `{ "n" : ${i} }` });
    const sink = new MemorySink();
    await runPipeline(options({ spec: spec(), registry: fakeRegistry({ source, sink }) })).done;
    expect(sink.written).toEqual(['{ "n" : 0 }', '{ "n" : 1 }', '{ "n" : 2 }']);
  });

  it('runs the transform chain and counts filtered records', async () => {
    const source = new CountingSource({ count: 100 });
    const sink = new MemorySink();
    const s = spec({ transforms: transforms(['keep-multiple', { of: 4 }], ['scale', { factor: 10 }]) });
    const summary = await runPipeline(options({ spec: s, registry: fakeRegistry({ source, sink }) })).done;
    expect(sink.values()).toEqual(Array.from({ length: 25 }, (_, i) => ({ n: i * 40 })));
    expect(summary).toMatchObject({ recordsIn: 100, recordsOut: 25, filtered: 75, deadLettered: 0 });
  });

  it('fails with INVALID_INPUT for an unknown component type and opens nothing', async () => {
    const source = new CountingSource({ count: 10 });
    const sink = new MemorySink();
    const s = spec({ transforms: transforms(['no-such-transform']) });
    const summary = await runPipeline(options({ spec: s, registry: fakeRegistry({ source, sink }) })).done;
    expect(summary.state).toBe('failed');
    expect(summary.error?.code).toBe('INVALID_INPUT');
    expect(summary.error?.message).toContain("transforms.0: unknown transform type 'no-such-transform'");
    expect(source.opened).toBeUndefined();
    expect(sink.openedWith).toBeUndefined();
  });

  it('requires a transforms module when workers are asked for', async () => {
    const source = new CountingSource({ count: 10 });
    const sink = new MemorySink();
    const s = spec({ workers: 2, transforms: transforms(['scale']) });
    const summary = await runPipeline(options({ spec: s, registry: fakeRegistry({ source, sink }) })).done;
    expect(summary.error?.code).toBe('INVALID_INPUT');
    expect(sink.writes).toBe(0);
  });

  it('reports progress with the counts so far', async () => {
    const source = new CountingSource({ count: 500 });
    const sink = new MemorySink();
    const seen: number[] = [];
    const handle = runPipeline(
      options({ spec: spec(), registry: fakeRegistry({ source, sink: sink }), onProgress: (p) => seen.push(p.recordsOut) }),
    );
    await handle.done;
    expect(seen[seen.length - 1]).toBe(500);
    expect(handle.progress()).toMatchObject({ recordsIn: 500, recordsOut: 500, inFlightBatches: 0 });
  });

  it('renders component metrics under the same names for every component', async () => {
    const source = new CountingSource({ count: 30 });
    const sink = new MemorySink();
    const dlq = new MemorySink();
    const s = spec({ deadLetter: DLQ, transforms: transforms(['reject-digit', { digit: 3 }]) });
    const metrics = new WireMetrics();
    const handle = runPipeline(options({ spec: s, registry: fakeRegistry({ source, sink, deadLetter: dlq }), metrics }));
    await handle.done;
    const text = await metrics.render();
    expect(text).toContain('wire_component_received_records_total{pipeline="test",component="source",type="fake"} 30');
    expect(text).toContain('wire_component_sent_records_total{pipeline="test",component="transforms.0",type="reject-digit"} 27');
    expect(text).toContain('wire_component_errors_total{pipeline="test",component="transforms.0",type="reject-digit"} 3');
    expect(text).toContain('wire_component_dead_lettered_records_total{pipeline="test",component="transforms.0",type="reject-digit"} 3');
    expect(text).toContain('wire_component_sent_records_total{pipeline="test",component="sink",type="fake"} 27');
    expect(text).toContain('wire_component_sent_records_total{pipeline="test",component="dead_letter",type="fake-dlq"} 3');
    expect(text).toMatch(/wire_pipeline_latency_seconds_count\{pipeline="test"\} [1-9]/);
  });
});
