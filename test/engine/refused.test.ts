import { describe, expect, it } from 'vitest';
import { RecordsRefused, WireError } from '../../src/core/errors.js';
import type { Sink } from '../../src/core/ports.js';
import type { Batch, WireRecord } from '../../src/core/record.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import { runPipeline } from '../../src/engine/runner.js';
import { CountingSource, DLQ, MemorySink, fakeRegistry, spec } from './fakes.js';

/**
 * Buffers records across writes and "sends" them `per` at a time, like the http sink: a request holding a
 * record whose n ends in 4 is refused for good, and its records (some from earlier writes) are handed back.
 */
class BufferingSink implements Sink {
  sent: number[] = [];
  private buffer: WireRecord[] = [];
  constructor(private readonly per: number) {}
  async open(): Promise<void> {}
  async write(batch: Batch): Promise<void> {
    this.buffer.push(...batch);
    while (this.buffer.length >= this.per) this.send();
  }
  async flush(): Promise<void> {
    while (this.buffer.length > 0) this.send();
  }
  async close(): Promise<void> {}
  private send(): void {
    const request = this.buffer.splice(0, this.per);
    const ns = request.map((r) => (r.value as { n: number }).n);
    if (ns.some((n) => n % 10 === 4)) throw new RecordsRefused(request, new WireError('INVALID_INPUT', 'answered 400', { status: 400, retryable: false }));
    this.sent.push(...ns);
  }
}

describe('records a sink refuses for good', () => {
  it('go to the dead-letter sink, from writes and from flushes, and none is lost or counted twice', async () => {
    const source = new CountingSource({ count: 1_000 });
    const sink = new BufferingSink(7);
    const dlq = new MemorySink();
    const summary = await runPipeline({
      spec: spec({ deadLetter: DLQ, batchSize: 5 }),
      registry: fakeRegistry({ source, sink, deadLetter: dlq }),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: '/x',
      checkpoint: { everyRecords: 50 },
    }).done;
    const letters = dlq.values() as { record: { n: number }; stage: string; code: string }[];
    const dead = letters.map((l) => l.record.n);
    expect([...sink.sent, ...dead].sort((a, b) => a - b)).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
    expect(dead.filter((n) => n % 10 === 4)).toHaveLength(100);
    expect(letters[0]).toMatchObject({ stage: 'sink', code: 'INVALID_INPUT' });
    expect(summary).toMatchObject({ state: 'stopped', recordsIn: 1_000, recordsOut: sink.sent.length, deadLettered: dead.length });
  });

  it('fail the pipeline under on_error: fail, and no checkpoint covers them', async () => {
    const source = new CountingSource({ count: 100 });
    const store = new MemoryCheckpointStore();
    const summary = await runPipeline({
      spec: spec({ onError: 'fail', batchSize: 5 }),
      registry: fakeRegistry({ source, sink: new BufferingSink(7) }),
      checkpointStore: store,
      dataDir: '/x',
      checkpoint: { everyRecords: 1 },
    }).done;
    expect(summary.state).toBe('failed');
    expect(summary.error?.message).toContain('answered 400');
    const saved = (await store.load('test'))?.position as number | undefined;
    expect(saved === undefined || saved < 4, `saved ${saved} ${summary.error?.message}`).toBe(true);
  });
});
