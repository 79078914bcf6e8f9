/** A damaged snapshot is refused with a clear error, and the state it was meant to replace stays as it was. */
import { readdir } from 'node:fs/promises';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterStateMachine } from '../../../src/cluster/fsm.js';
import { readSnapshot } from '../../../src/cluster/snapshot-format.js';
import { chunked, collect, dump, entries, openFsm, tempDir } from './harness.js';

const spec = { source: { type: 'generate', config: { count: 3 } }, sink: { type: 'stdout', config: {} } };

function flip(bytes: Buffer, bit: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[bit >> 3]! ^= 1 << (bit & 7);
  return copy;
}

describe('a corrupt snapshot', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let target: ClusterStateMachine;
  let good: Buffer;
  let before: unknown;

  beforeAll(async () => {
    dir = await tempDir();
    const source = await openFsm(`${dir.path}/source`);
    await source.apply(
      entries(
        [
          { v: 1, type: 'cluster.init', id: 'c1', at: 0 },
          { v: 1, type: 'pipeline.create', name: 'a', spec, desired: 'running', at: 1 },
          { v: 1, type: 'pipeline.replace', name: 'a', spec: { ...spec, parallelism: 2 }, at: 2 },
          { v: 1, type: 'node.upsert', node: { id: 'n1', raftAddress: 'h:1', httpAddress: 'h:2', role: 'voter', labels: {} }, at: 3 },
        ],
        1,
      ),
    );
    good = await collect(source.snapshot());
    await source.close();
    target = await openFsm(`${dir.path}/target`);
    await target.apply(entries([{ v: 1, type: 'cluster.init', id: 'c1', at: 0 }, { v: 1, type: 'pipeline.create', name: 'old', spec, desired: 'stopped', at: 9 }], 1));
    before = dump(target.view());
  });
  afterAll(async () => {
    await target.close();
    await dir.remove();
  });

  const expectUnchanged = async (): Promise<void> => {
    expect(dump(target.view())).toEqual(before);
    expect((await readdir(`${dir.path}/target`)).sort()).toEqual(['CURRENT', 'state-1']);
  };

  it('is refused for every single bit flipped, by the format reader', async () => {
    for (let bit = 0; bit < good.length * 8; bit++) {
      await expect(readSnapshot(chunked(flip(good, bit), 97), () => undefined), `bit ${bit}`).rejects.toThrow(/^snapshot refused: /);
    }
  });

  it('is refused when restored with a bit flipped, leaving the state unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: good.length * 8 - 1 }), async (bit) => {
        await expect(target.restore(chunked(flip(good, bit), 64))).rejects.toThrow(/^snapshot refused: /);
        await expectUnchanged();
      }),
      { numRuns: 30, seed: 1020 },
    );
  });

  it('is refused when cut short at any length, leaving the state unchanged', async () => {
    for (const length of [0, 3, 8, 12, good.length >> 1, good.length - 5, good.length - 1]) {
      await expect(target.restore(chunked(good.subarray(0, length), 64)), `length ${length}`).rejects.toThrow(/snapshot refused: (the stream ends after \d+ bytes, before its trailer)/);
      await expectUnchanged();
    }
    for (let length = 0; length < good.length; length++) {
      await expect(readSnapshot(chunked(good.subarray(0, length), 50), () => undefined)).rejects.toThrow(/^snapshot refused: /);
    }
  });

  it('is refused with bytes after its trailer', async () => {
    await expect(target.restore(chunked(Buffer.concat([good, Buffer.from([0])]), 64))).rejects.toThrow(/bytes follow the trailer/);
    await expect(target.restore(chunked(Buffer.concat([good, Buffer.from([0])]), good.length))).rejects.toThrow(/bytes follow the trailer/);
    await expectUnchanged();
  });

  it('names what is wrong: not a snapshot, a format from the future, a checksum that does not match', async () => {
    await expect(target.restore(chunked(Buffer.from('{"json": true}'), 64))).rejects.toThrow(/does not start with the Wire state snapshot marker/);
    const last = good.length - 1;
    await expect(target.restore(chunked(flip(good, last * 8), 64))).rejects.toThrow(/checksum mismatch/);
    await expectUnchanged();
  });

  it('is still followed by a good one', async () => {
    await target.restore(chunked(good, 64));
    expect(target.view().pipeline('a')?.version).toBe(2);
    expect(target.view().pipeline('old')).toBeUndefined();
  });
});
