import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { jsDefinition } from '../../src/transforms/js.js';
import type { Transform } from '../../src/core/ports.js';
import { WireRecord } from '../../src/core/record.js';
import { runPipeline } from '../../src/engine/runner.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import { CountingSource, DLQ, MemorySink, fakeRegistry, spec } from '../engine/fakes.js';
import { run, runRecords } from './helpers.js';

const module = fileURLToPath(new URL('./fixtures/double.mjs', import.meta.url));
// Every js transform owns a thread: each test's are closed after it.
const opened: Transform[] = [];
const js = (fn?: string): Transform => {
  const transform = jsDefinition.create(fn === undefined ? { module } : { module, function: fn });
  opened.push(transform);
  return transform;
};
afterEach(async () => {
  await Promise.all(opened.splice(0).map((t) => t.close?.()));
});

type Letter = { error: string; code?: string; stage: string; record: { n: number } };

/** 300 records {n} in batches of 100 through one js transform, with a dead-letter sink. */
async function pipelineThrough(fn: string, transformTimeoutMs: number, workers = 0) {
  const source = new CountingSource({ count: 300 });
  const sink = new MemorySink();
  const dlq = new MemorySink();
  const summary = await runPipeline({
    spec: spec({ deadLetter: DLQ, transforms: [{ type: 'js', config: { module, function: fn } }], transformTimeoutMs, workers }),
    registry: fakeRegistry({ source, sink, deadLetter: dlq }, [jsDefinition]),
    checkpointStore: new MemoryCheckpointStore(),
    dataDir: '/x',
    transformsModule: new URL('../../src/transforms/runtime.ts', import.meta.url),
  }).done;
  return { summary, out: sink.values() as { n: number }[], letters: dlq.values() as Letter[] };
}

describe('js', () => {
  it("calls the module's default export on each value", async () => {
    const { out } = await run(js(), [{ n: 1, k: 'a' }, { n: 2 }]);
    expect(out.map((r) => r.value)).toEqual([{ n: 2, k: 'a' }, { n: 4 }]);
  });

  it('drops a record when the function returns null', async () => {
    const { out } = await run(js('dropOdd'), [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    expect(out.map((r) => r.value)).toEqual([{ n: 2 }, { n: 4 }]);
  });

  it('splits a record when the function returns an array, keeping order, key and position', async () => {
    const records = [{ items: [{ i: 1 }, { i: 2 }] }, { items: [] }, { items: [{ i: 3 }, null] }].map(
      (value, position) => new WireRecord({ value, key: `k${position}`, position }),
    );
    const { out } = await runRecords(js('explode'), records);
    expect(out.map((r) => r.value)).toEqual([{ i: 1 }, { i: 2 }, { i: 3 }]);
    expect(out.map((r) => [r.key, r.position])).toEqual([['k0', 0], ['k0', 0], ['k2', 2]]);
    expect(new Set(out.map((r) => r.id)).size).toBe(3);
  });

  it('awaits an async function once per batch and rejects the records whose promise fails', async () => {
    const { out, rejected } = await run(js('slowDouble'), [{ n: 1 }, { n: 13 }, { n: 2 }]);
    expect(out.map((r) => r.value)).toEqual([{ n: 2 }, { n: 4 }]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.record.value).toEqual({ n: 13 });
    expect((rejected[0]!.error as Error).message).toBe('unlucky');
  });

  it('keeps input order when sync and async results mix, and rejects a throwing record', async () => {
    const { out, rejected } = await run(js('mixed'), [{ n: 1 }, { n: 2 }, { n: 0 }, { n: 3 }, { n: 4 }]);
    expect(out.map((r) => r.value)).toEqual([
      { n: 1, async: false },
      { n: 2, async: true },
      { n: 3, async: false },
      { n: 4, async: true },
    ]);
    expect((rejected[0]!.error as Error).message).toBe('zero');
  });

  it('runs the function on a thread of its own, ended and started afresh when the engine gives up on a call', async () => {
    const transform = js('loopAt13');
    const stuck = new AbortController();
    const rejected: unknown[] = [];
    const ctx = { reject: (_: WireRecord, error: unknown) => rejected.push(error), signal: stuck.signal };
    const looping = transform.process([WireRecord.fromValue({ n: 13 })], ctx) as Promise<unknown>;
    // The endless loop runs elsewhere: this thread's timers still fire.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const queued = transform.process([WireRecord.fromValue({ n: 2 })], { reject: () => undefined });
    stuck.abort();
    expect(((await queued) as WireRecord[]).map((r) => r.value)).toEqual([{ n: 2 }]);
    const { out } = await run(transform, [{ n: 3 }]);
    expect(out.map((r) => r.value)).toEqual([{ n: 3 }]);
    expect(rejected).toEqual([]);
    void looping.catch(() => undefined);
  });

  it('an endless loop in the function: its batch goes to the dead letter with TIMEOUT, the rest flows', { timeout: 60_000 }, async () => {
    const { summary, out, letters } = await pipelineThrough('loopAt13', 1_000);
    expect(summary).toMatchObject({ state: 'stopped', cause: 'end', recordsOut: 200, deadLettered: 100, checkpoint: 299 });
    expect(out.map((v) => v.n)).toEqual(Array.from({ length: 200 }, (_, i) => 100 + i));
    expect(letters.map((l) => l.record.n)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(letters[0]).toMatchObject({ code: 'TIMEOUT', stage: 'transforms.0' });
  });

  it('an endless loop in the function on a worker thread: the same', { timeout: 60_000 }, async () => {
    const { summary, letters } = await pipelineThrough('loopAt13', 1_000, 1);
    expect(summary).toMatchObject({ state: 'stopped', cause: 'end', recordsOut: 200, deadLettered: 100, checkpoint: 299, workers: 1 });
    expect(letters[0]).toMatchObject({ code: 'TIMEOUT', stage: 'transforms.0' });
  });

  it('a promise that never settles: its batch goes to the dead letter with TIMEOUT, the rest flows', { timeout: 60_000 }, async () => {
    const { summary, out, letters } = await pipelineThrough('neverAt13', 1_000);
    expect(summary).toMatchObject({ state: 'stopped', cause: 'end', recordsOut: 200, deadLettered: 100, checkpoint: 299 });
    expect(out.map((v) => v.n)).toEqual(Array.from({ length: 200 }, (_, i) => 100 + i));
    expect(letters.every((l) => l.code === 'TIMEOUT')).toBe(true);
  });

  it('rejects a record whose result is not JSON (a BigInt, a cycle), keeping the others', async () => {
    for (const fn of ['withBigInt', 'withCycle']) {
      const { out, rejected } = await run(js(fn), [{ n: 1 }, { n: 2 }, { n: 3 }]);
      expect(out.map((r) => (r.value as { n: number }).n)).toEqual([1, 3]);
      expect(rejected.map((r) => r.record.value)).toEqual([{ n: 2 }]);
      expect((rejected[0]!.error as Error).message).toMatch(/^js: cannot write the value as JSON: /);
    }
  });

  it('a string result is the value itself, not JSON text', async () => {
    const { out } = await run(js('text'), [{ n: 1 }]);
    expect(out[0]!.value).toBe('n=1');
    expect(out[0]!.text()).toBe('n=1');
  });

  it('rejects a malformed JSON record with the error reading it gives', async () => {
    const { out, rejected } = await runRecords(js(), [WireRecord.fromRaw('{"n": 1,'), WireRecord.fromRaw('{"n":2}')]);
    expect(out.map((r) => r.value)).toEqual([{ n: 4 }]);
    expect(rejected[0]!.error).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/^malformed JSON: /) as string });
  });

  it('rejects a record for which the function returns something that is not a value', async () => {
    const { out, rejected } = await run(js('giveFunction'), [{ n: 1 }]);
    expect(out).toEqual([]);
    expect((rejected[0]!.error as Error).message).toBe('js: the function returned a function, not a JSON value');
  });

  it('fails with a clear error when the export is not a function', async () => {
    await expect(run(js('notAFunction'), [{}])).rejects.toThrow(/has no exported function 'notAFunction' \(functions: .*dropOdd/);
  });

  it('fails with a clear error when the module cannot be loaded', async () => {
    const transform = jsDefinition.create({ module: '/nonexistent/fn.mjs' });
    opened.push(transform);
    await expect(run(transform, [{}])).rejects.toThrow(/^js: cannot load module \/nonexistent\/fn\.mjs/);
  });

  it('check() reports a module file that does not exist', () => {
    expect(jsDefinition.check!({ module: '/nonexistent/fn.mjs' })).toEqual([{ path: 'module', message: 'module not found: /nonexistent/fn.mjs' }]);
    expect(jsDefinition.check!({ module })).toEqual([]);
  });

  it('marks module as a path relative to the pipeline file in its schema', () => {
    const properties = jsDefinition.schema['properties'] as Record<string, Record<string, unknown>>;
    expect(properties['module']!['x-wire-pipeline-relative']).toBe(true);
  });
});
