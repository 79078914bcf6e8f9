import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/engine/runner.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import type { RunOptions } from '../../src/engine/options.js';
import { CountingSource, DLQ, MemorySink, fakeRegistry, nonRetryable, spec, transforms, VirtualClock } from './fakes.js';

function options(o: Partial<RunOptions> & Pick<RunOptions, 'spec' | 'registry'>): RunOptions {
  return { checkpointStore: new MemoryCheckpointStore(), dataDir: '/nonexistent', clock: new VirtualClock(), random: () => 0.5, ...o };
}

type Letter = { error: string; code?: string; stage: string; attempts: number; time: string; record: unknown };

describe('transform errors', () => {
  it('sends records a transform rejects to the dead-letter sink and lets the rest flow', async () => {
    const source = new CountingSource({ count: 100 });
    const sink = new MemorySink();
    const dlq = new MemorySink();
    const s = spec({ deadLetter: DLQ, transforms: transforms(['scale', { factor: 1 }], ['reject-digit', { digit: 3 }]) });
    const summary = await runPipeline(options({ spec: s, registry: fakeRegistry({ source, sink, deadLetter: dlq }) })).done;
    expect(summary).toMatchObject({ state: 'stopped', recordsOut: 90, deadLettered: 10, errors: 10 });
    expect(sink.values().map((v) => (v as { n: number }).n)).toEqual(Array.from({ length: 100 }, (_, n) => n).filter((n) => n % 10 !== 3));
    const letters = dlq.values() as Letter[];
    expect(letters).toHaveLength(10);
    expect(letters[0]).toMatchObject({ error: 'n ends in 3', code: 'INVALID_INPUT', stage: 'transforms.1', attempts: 1, record: { n: 3 } });
    expect(Number.isNaN(Date.parse(letters[0]!.time))).toBe(false);
  });

  it('isolates the record when a transform throws for a whole batch', async () => {
    const source = new CountingSource({ count: 1_000 });
    const sink = new MemorySink();
    const dlq = new MemorySink();
    const s = spec({ deadLetter: DLQ, transforms: transforms(['throw-multiple', { every: 250 }]) });
    const summary = await runPipeline(options({ spec: s, registry: fakeRegistry({ source, sink, deadLetter: dlq }) })).done;
    expect(summary).toMatchObject({ recordsOut: 996, deadLettered: 4 });
    expect((dlq.values() as Letter[]).map((l) => l.record)).toEqual([{ n: 0 }, { n: 250 }, { n: 500 }, { n: 750 }]);
    expect((dlq.values() as Letter[])[1]).toMatchObject({ error: 'cannot take 250', stage: 'transforms.0' });
  });

  it('keeps a malformed JSON line as raw text in its dead letter', async () => {
    const source = new CountingSource({ count: 5, raw: (i) => (i === 2 ? '{"n": 2,,' : `{"n":${i}}`) });
    const sink = new MemorySink();
    const dlq = new MemorySink();
    const s = spec({ deadLetter: DLQ, transforms: transforms(['parse']) });
    await runPipeline(options({ spec: s, registry: fakeRegistry({ source, sink, deadLetter: dlq }) })).done;
    expect(sink.values()).toEqual([{ n: 0 }, { n: 1 }, { n: 3 }, { n: 4 }]);
    const [letter] = dlq.values() as Letter[];
    expect(letter).toMatchObject({ code: 'INVALID_INPUT', record: '{"n": 2,,' });
    expect(letter!.error).toMatch(/malformed JSON/);
  });

  it('fails the pipeline on a rejected record when there is no dead-letter sink', async () => {
    const source = new CountingSource({ count: 100 });
    const sink = new MemorySink();
    const store = new MemoryCheckpointStore();
    const s = spec({ transforms: transforms(['reject-digit', { digit: 3 }]) });
    const summary = await runPipeline(options({ spec: s, registry: fakeRegistry({ source, sink }), checkpointStore: store })).done;
    expect(summary).toMatchObject({ state: 'failed', cause: 'error' });
    expect(summary.error?.message).toContain('no dead_letter sink');
    expect(source.acks).toEqual([]);
    // Only the opening checkpoint: nothing acknowledged.
    expect((await store.load('test'))?.position).toBeNull();
    expect(source.closed && sink.closed).toBe(true);
  });

  it('drops and counts rejected records under on_error: drop without a dead-letter sink', async () => {
    const source = new CountingSource({ count: 100 });
    const sink = new MemorySink();
    const s = spec({ onError: 'drop', transforms: transforms(['reject-digit', { digit: 3 }]) });
    const summary = await runPipeline(options({ spec: s, registry: fakeRegistry({ source, sink }) })).done;
    expect(summary).toMatchObject({ state: 'stopped', recordsOut: 90, dropped: 10, deadLettered: 0 });
  });
});

describe('sink errors', () => {
  it('retries a failing write with backoff and succeeds without losing or duplicating records', async () => {
    const source = new CountingSource({ count: 300 });
    const clock = new VirtualClock();
    const sink = new MemorySink({ failure: (_b, attempt) => (attempt === 2 || attempt === 3 ? new Error('disk busy') : undefined) });
    const summary = await runPipeline(
      options({ spec: spec({ retry: { maxAttempts: 5, initialMs: 100, maxMs: 1_000 } }), registry: fakeRegistry({ source, sink }), clock, random: () => 0.999 }),
    ).done;
    expect(summary).toMatchObject({ state: 'stopped', recordsOut: 300, errors: 2 });
    expect(sink.values()).toEqual(Array.from({ length: 300 }, (_, n) => ({ n })));
    // Full jitter below 100 ms, then below 200 ms: exponential.
    expect(clock.slept).toEqual([99, 199]);
  });

  it('sends the batch to the dead-letter sink once retries are exhausted (on_error: dead_letter)', async () => {
    const source = new CountingSource({ count: 300 });
    const sink = new MemorySink({ failure: (batch) => ((batch[0]!.position as number) === 100 ? new Error('rejected by server') : undefined) });
    const dlq = new MemorySink();
    const s = spec({ deadLetter: DLQ, retry: { maxAttempts: 3, initialMs: 1, maxMs: 2 } });
    const summary = await runPipeline(options({ spec: s, registry: fakeRegistry({ source, sink, deadLetter: dlq }) })).done;
    expect(summary).toMatchObject({ state: 'stopped', recordsOut: 200, deadLettered: 100, errors: 3 });
    const letters = dlq.values() as Letter[];
    expect(letters.map((l) => (l.record as { n: number }).n)).toEqual(Array.from({ length: 100 }, (_, i) => 100 + i));
    expect(letters[0]).toMatchObject({ stage: 'sink', attempts: 3, error: 'rejected by server' });
    expect(source.acks[source.acks.length - 1]).toBe(299);
  });

  it('does not retry an error marked retryable: false', async () => {
    const source = new CountingSource({ count: 100 });
    const sink = new MemorySink({ failure: () => nonRetryable('bad credentials') });
    const dlq = new MemorySink();
    const s = spec({ deadLetter: DLQ, retry: { maxAttempts: 5, initialMs: 1, maxMs: 2 } });
    await runPipeline(options({ spec: s, registry: fakeRegistry({ source, sink, deadLetter: dlq }) })).done;
    expect(sink.attempts).toBe(1);
    expect((dlq.values() as Letter[])[0]).toMatchObject({ attempts: 1, code: 'UNAVAILABLE' });
  });

  it('fails without acking past the failed batch (on_error: fail)', async () => {
    const source = new CountingSource({ count: 1_000 });
    const sink = new MemorySink({ failure: (batch) => ((batch[0]!.position as number) >= 500 ? new Error('gone') : undefined) });
    const store = new MemoryCheckpointStore();
    const s = spec({ onError: 'fail' });
    const summary = await runPipeline(
      options({ spec: s, registry: fakeRegistry({ source, sink }), checkpointStore: store, checkpoint: { everyRecords: 100 } }),
    ).done;
    expect(summary).toMatchObject({ state: 'failed', cause: 'error' });
    expect(summary.error?.code).toBe('UNAVAILABLE');
    expect(summary.error?.message).toContain('sink write failed after 3 attempt(s): gone');
    expect(source.acks.every((p) => (p as number) < 500)).toBe(true);
    expect(((await store.load('test'))?.position as number) < 500).toBe(true);
  });

  it('drops and counts a batch the sink cannot take (on_error: drop)', async () => {
    const source = new CountingSource({ count: 300 });
    const sink = new MemorySink({ failure: (batch) => ((batch[0]!.position as number) === 200 ? new Error('too big') : undefined) });
    const summary = await runPipeline(options({ spec: spec({ onError: 'drop' }), registry: fakeRegistry({ source, sink }) })).done;
    expect(summary).toMatchObject({ state: 'stopped', recordsOut: 200, dropped: 100 });
  });

  it('fails when on_error is dead_letter but no dead-letter sink is configured', async () => {
    const source = new CountingSource({ count: 100 });
    const sink = new MemorySink({ failure: () => new Error('down') });
    const summary = await runPipeline(options({ spec: spec(), registry: fakeRegistry({ source, sink }) })).done;
    expect(summary.state).toBe('failed');
    expect(source.acks).toEqual([]);
  });

  it('fails, acking nothing more, when the dead-letter sink itself fails', async () => {
    const source = new CountingSource({ count: 300 });
    const sink = new MemorySink({ failure: (batch) => ((batch[0]!.position as number) === 100 ? new Error('no') : undefined) });
    const dlq = new MemorySink({ failure: () => new Error('dlq full') });
    const store = new MemoryCheckpointStore();
    const s = spec({ deadLetter: DLQ });
    const summary = await runPipeline(
      options({ spec: s, registry: fakeRegistry({ source, sink, deadLetter: dlq }), checkpointStore: store, checkpoint: { everyRecords: 1 } }),
    ).done;
    expect(summary.state).toBe('failed');
    expect(summary.error?.message).toContain('dead-letter sink failed after 3 attempt(s): dlq full');
    expect(source.acks).toEqual([99]);
    expect((await store.load('test'))?.position).toBe(99);
  });
});

describe('source errors', () => {
  it('fails the run when the source throws, after the writes under way have settled', async () => {
    const source = new CountingSource({
      count: 1_000,
      before: (i) => {
        if (i === 500) throw new Error('disk unplugged');
      },
    });
    let closedDuringWrite = false;
    const sink: MemorySink = new MemorySink({
      delay: async () => {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (sink.closed) closedDuringWrite = true;
      },
    });
    const summary = await runPipeline(options({ spec: spec(), registry: fakeRegistry({ source, sink }) })).done;
    expect(summary).toMatchObject({ state: 'failed', cause: 'error' });
    expect(summary.error?.message).toBe('disk unplugged');
    expect(summary.error?.code).toBe('INTERNAL');
    expect(closedDuringWrite).toBe(false);
    expect(source.closed && sink.closed).toBe(true);
  });
});
