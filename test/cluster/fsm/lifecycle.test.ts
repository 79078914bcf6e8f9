/** The state machine's edges: streams cut by a restore or a close, applies during a restore, leftovers of a failed restore. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodeCommand } from '../../../src/cluster/commands.js';
import type { ClusterStateMachine } from '../../../src/cluster/fsm.js';
import { chunked, collect, dump, entries, openFsm, tempDir } from './harness.js';

const spec = { source: { type: 'generate', config: {} }, sink: { type: 'stdout', config: {} } };

function manyPipelines(count: number): unknown[] {
  const commands: unknown[] = [{ v: 1, type: 'cluster.init', id: 'c1', at: 0 }];
  for (let i = 0; i < count; i++) commands.push({ v: 1, type: 'pipeline.create', name: `p-${i}`, spec, desired: 'running', at: i });
  return commands;
}

describe('the state machine', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let a: ClusterStateMachine;
  let b: ClusterStateMachine;

  beforeEach(async () => {
    dir = await tempDir();
    a = await openFsm(join(dir.path, 'a'));
    b = await openFsm(join(dir.path, 'b'));
    await a.apply(entries(manyPipelines(2000), 1));
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    await dir.remove();
  });

  it('cuts short a snapshot stream when a restore replaces the state under it', async () => {
    const reading = a.snapshot()[Symbol.asyncIterator]();
    expect((await reading.next()).done).toBe(false);
    await a.restore(b.snapshot());
    await expect(collect({ [Symbol.asyncIterator]: () => reading })).rejects.toThrow(/snapshot was cut short/);
    expect(a.view().pipelines()).toEqual([]);
  });

  it('cuts short a snapshot stream when it is closed', async () => {
    const reading = a.snapshot()[Symbol.asyncIterator]();
    await reading.next();
    await a.close();
    await expect(collect({ [Symbol.asyncIterator]: () => reading })).rejects.toThrow(/cut short/);
    expect(() => a.view()).toThrow(/closed/);
  });

  it('refuses to apply while a restore is under way', async () => {
    const bytes = await collect(a.snapshot());
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield bytes.subarray(0, 100);
      await gate;
      yield bytes.subarray(100);
    }
    const restoring = b.restore(slow());
    await new Promise((r) => setTimeout(r, 20));
    await expect(b.apply(entries([{ v: 1, type: 'cluster.init', id: 'c1', at: 0 }], 1))).rejects.toThrow(/while a snapshot is being restored/);
    await expect(b.restore(chunked(bytes, 100))).rejects.toThrow(/already under way/);
    release();
    await restoring;
    expect(dump(b.view())).toEqual(dump(a.view()));
  });

  it('refuses to restore while an apply is committing', async () => {
    const applying = b.apply(entries([{ v: 1, type: 'cluster.init', id: 'c1', at: 0 }], 1));
    await expect(b.restore(a.snapshot())).rejects.toThrow(/while entries are being applied/);
    await applying;
    expect(b.view().cluster()?.id).toBe('c1');
  });

  it('restores over what a failed restore left behind', async () => {
    // As if an earlier restore of this process had renamed its directory and then failed.
    await mkdir(join(dir.path, 'b', 'state-2'));
    await writeFile(join(dir.path, 'b', 'state-2', 'data.mdb'), 'half');
    await b.restore(a.snapshot());
    expect(dump(b.view())).toEqual(dump(a.view()));
  });

  it('refuses a __proto__ key, which would not come back under that name', () => {
    const polluted = JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown>;
    expect(() => encodeCommand({ v: 1, type: 'pipeline.create', name: 'p', spec: polluted, desired: 'running', at: 0 })).toThrow(/__proto__/);
  });
});
