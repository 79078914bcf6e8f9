// The http source inside the engine: what a caller is told, and when (a group commit, not the periodic checkpoint).
import { afterEach, describe, expect, it } from 'vitest';
import { RecordsRefused, WireError } from '../../src/core/errors.js';
import type { PipelineSpec } from '../../src/core/pipeline.js';
import type { Checkpoint, CheckpointStore } from '../../src/core/ports.js';
import type { Batch, WireRecord } from '../../src/core/record.js';
import { HttpSource, httpSourceDefinition } from '../../src/connectors/sources/http.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import { runPipeline } from '../../src/engine/runner.js';
import type { PipelineHandle } from '../../src/engine/options.js';
import { DLQ, GatedFlushSink, MemorySink, fakeRegistry, spec, transforms } from '../engine/fakes.js';
import { waitFor } from './helpers.js';

const transformsModule = new URL('../engine/fake-transforms.ts', import.meta.url);
const handles: PipelineHandle[] = [];

afterEach(async () => {
  for (const handle of handles.splice(0)) {
    handle.stop();
    await handle.done;
  }
});

/** A sink whose flush takes a while (an fsync) and counts, and which refuses at flush records whose n ends in 4. */
class SlowFlushSink extends MemorySink {
  private pending: WireRecord[] = [];
  constructor(private readonly flushMs = 0) {
    super();
  }
  override async write(batch: Batch): Promise<void> {
    await super.write(batch);
    this.pending.push(...batch);
  }
  override async flush(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.flushMs));
    const refused = this.pending.filter((r) => (r.value as { n: number }).n % 10 === 4);
    this.pending = [];
    if (refused.length > 0) throw new RecordsRefused(refused, new WireError('INVALID_INPUT', 'refused', { retryable: false }));
    await super.flush();
  }
}

/** Runs an http source into `sink` with a periodic checkpoint far away: only a prompt commit can answer callers. */
async function start(
  sink: MemorySink,
  overrides: Partial<PipelineSpec> = {},
  checkpointStore: CheckpointStore = new MemoryCheckpointStore(),
): Promise<{ url: string; handle: PipelineHandle }> {
  const source = httpSourceDefinition.create({ address: '127.0.0.1:0' }) as HttpSource;
  const handle = runPipeline({
    spec: spec({ deadLetter: DLQ, ...overrides }),
    registry: fakeRegistry({ source, sink, deadLetter: new MemorySink() }),
    checkpointStore,
    dataDir: '/x',
    checkpoint: { everyMs: 600_000 },
    transformsModule,
  });
  handles.push(handle);
  await waitFor(() => {
    try {
      source.address();
      return true;
    } catch {
      return false;
    }
  }, 'the source to listen');
  const { host, port } = source.address();
  return { url: `http://${host}:${port}/ingest`, handle };
}

const numbers = (from: number, to: number): string => JSON.stringify(Array.from({ length: to - from }, (_, i) => ({ n: from + i })));

async function post(url: string, body: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', body, signal: AbortSignal.timeout(20_000) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('http source in a pipeline', () => {
  it('answers once its records are durable, without waiting for the periodic checkpoint', async () => {
    const sink = new MemorySink();
    const { url } = await start(sink);
    const res = await post(url, numbers(0, 3));
    expect(res).toEqual({ status: 200, body: { accepted: 3, dead_lettered: 0, dropped: 0, filtered: 0 } });
    expect(sink.durable).toBe(3);
  });

  it('says how many records were accepted, dead-lettered and filtered', async () => {
    const { url } = await start(new MemorySink(), { transforms: transforms(['reject-digit', { digit: 3 }], ['keep-multiple', { of: 2 }]) });
    expect(await post(url, numbers(0, 10))).toEqual({ status: 200, body: { accepted: 5, dead_lettered: 1, dropped: 0, filtered: 4 } });
  });

  it('answers 422 with the counts when none of the records reached the sink', async () => {
    const { url } = await start(new MemorySink(), { transforms: transforms(['reject-digit', { digit: 3 }], ['keep-multiple', { of: 2 }]) });
    const res = await post(url, '[{"n":1},{"n":3},{"n":5}]');
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ accepted: 0, dead_lettered: 1, dropped: 0, filtered: 2, error: { code: 'INVALID_INPUT' } });
  });

  it('counts as dropped the records transforms reject under on_error: drop', async () => {
    const { url } = await start(new MemorySink(), { onError: 'drop', deadLetter: undefined, transforms: transforms(['reject-digit', { digit: 3 }]) });
    expect((await post(url, numbers(0, 5))).body).toEqual({ accepted: 4, dead_lettered: 0, dropped: 1, filtered: 0 });
  });

  it('counts records the sink refuses at its flush as dead-lettered, not accepted', async () => {
    const { url } = await start(new SlowFlushSink());
    expect((await post(url, numbers(0, 10))).body).toEqual({ accepted: 9, dead_lettered: 1, dropped: 0, filtered: 0 });
  });

  it('tells the same counts when the transforms run on worker threads', async () => {
    const { url } = await start(new MemorySink(), { workers: 1, transforms: transforms(['reject-digit', { digit: 3 }], ['keep-multiple', { of: 2 }]) });
    expect((await post(url, numbers(0, 10))).body).toEqual({ accepted: 5, dead_lettered: 1, dropped: 0, filtered: 4 });
  });

  it('answers many waiting requests with one flush (a group commit)', async () => {
    const sink = new SlowFlushSink(50);
    const { url } = await start(sink);
    const answers = await Promise.all(Array.from({ length: 24 }, (_, k) => post(url, numbers(k * 10 + 5, k * 10 + 9))));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(sink.durable).toBe(24 * 4);
    expect(sink.flushes).toBeLessThan(24);
  });

  it('goes on writing while a group commit syncs, and answers every request that waited meanwhile with the next flush', async () => {
    const sink = new GatedFlushSink();
    const { url } = await start(sink, { deadLetter: undefined });
    const first = post(url, numbers(0, 1));
    await waitFor(() => sink.gates.length === 1, 'the first flush to start');
    const waiting = Array.from({ length: 8 }, (_, k) => post(url, numbers(10 * k + 10, 10 * k + 13)));
    // Every request is in the sink while the first flush still syncs: writes do not wait for it.
    await waitFor(() => sink.writtenCount === 1 + 8 * 3, 'the waiting requests to be written');
    expect(sink.flushes).toBe(1);
    sink.gates[0]!();
    expect((await first).status).toBe(200);
    await waitFor(() => sink.gates.length === 2, 'the second flush to start');
    sink.gates[1]!();
    const answers = await Promise.all(waiting);
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    // One flush answered the first request, one more every request that waited behind it.
    expect(sink.covered).toEqual([1, 25]);
    expect(sink.flushes).toBe(2);
  });

  it('fails the run, and answers 503, when the checkpoint of a group commit cannot be saved', async () => {
    class BrokenStore extends MemoryCheckpointStore {
      // The opening checkpoint (position null, saved before anything is read) goes through; the first save
      // of records fails.
      override async save(key: string, checkpoint: Checkpoint): Promise<void> {
        if (checkpoint.position === null) return super.save(key, checkpoint);
        throw new WireError('UNAVAILABLE', 'disk gone', { retryable: false });
      }
    }
    const { url, handle } = await start(new MemorySink(), {}, new BrokenStore());
    const res = await post(url, numbers(0, 2));
    expect(res.status).toBe(503);
    const summary = await handle.done;
    expect(summary.state).toBe('failed');
    expect(summary.error?.message).toContain('disk gone');
  });
});
