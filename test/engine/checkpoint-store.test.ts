import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openCheckpointStore } from '../../src/engine/checkpoint-store.js';
import { runPipeline } from '../../src/engine/runner.js';
import { CountingSource, MemorySink, fakeRegistry, spec } from './fakes.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wire-cp-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('LMDB checkpoint store', () => {
  it('saves, loads after reopening, and deletes checkpoints', async () => {
    const dir = tempDir();
    const store = openCheckpointStore(join(dir, 'data'));
    await store.save('orders', { position: { file: 'a.jsonl', offset: 1024 }, sink: 2048, updatedAt: 5 });
    await store.save('other', { position: 3, updatedAt: 6 });
    await store.close();

    const reopened = openCheckpointStore(join(dir, 'data'));
    expect(await reopened.load('orders')).toEqual({ position: { file: 'a.jsonl', offset: 1024 }, sink: 2048, updatedAt: 5 });
    expect(await reopened.load('missing')).toBeUndefined();
    await reopened.delete('orders');
    expect(await reopened.load('orders')).toBeUndefined();
    expect(await reopened.load('other')).toMatchObject({ position: 3 });
    await reopened.close();
    await expect(reopened.load('other')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('lets a pipeline resume from where the previous process stopped', async () => {
    const dir = tempDir();
    const sink = new MemorySink();
    const ref: { handle?: ReturnType<typeof runPipeline> } = {};
    const store1 = openCheckpointStore(dir);
    const first = new CountingSource({ count: 1_000, before: (i) => (i === 400 ? ref.handle!.stop() : undefined) });
    const handle = runPipeline({ spec: spec(), registry: fakeRegistry({ source: first, sink }), checkpointStore: store1, dataDir: dir });
    ref.handle = handle;
    await handle.done;
    await store1.close();

    const store2 = openCheckpointStore(dir);
    const second = new CountingSource({ count: 1_000 });
    await runPipeline({ spec: spec(), registry: fakeRegistry({ source: second, sink }), checkpointStore: store2, dataDir: dir }).done;
    await store2.close();
    expect(second.opened?.from).toBe(399);
    expect(sink.values()).toEqual(Array.from({ length: 1_000 }, (_, n) => ({ n })));
  });
});
