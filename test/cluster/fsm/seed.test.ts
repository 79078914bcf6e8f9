// `seed`: a backup loaded into an empty state for a new cluster (`wire node --restore`).
import { afterEach, describe, expect, it } from 'vitest';
import { entries, openFsm, tempDir } from './harness.js';
import type { ClusterStateMachine } from '../../../src/cluster/fsm.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function state(): Promise<ClusterStateMachine> {
  const dir = await tempDir();
  const fsm = await openFsm(dir.path);
  cleanups.push(dir.remove, () => fsm.close());
  return fsm;
}

const spec = (name: string, count: number) => ({ name, source: { type: 'generate', config: { count } }, sink: { type: 'stdout', config: {} } });

describe('seeding a state from a backup', () => {
  it('brings every pipeline version, not the old cluster record or members, applied to nothing', async () => {
    const old = await state();
    await old.apply(
      entries(
        [
          { v: 1, type: 'cluster.init', id: 'c-old', at: 1 },
          { v: 1, type: 'node.upsert', node: { id: 'n1', raftAddress: '127.0.0.1:4002', httpAddress: '127.0.0.1:4001', role: 'voter', labels: {} }, at: 1 },
          { v: 1, type: 'pipeline.create', name: 'p1', spec: spec('p1', 1), desired: 'running', at: 2 },
          { v: 1, type: 'pipeline.replace', name: 'p1', spec: spec('p1', 2), at: 3 },
        ],
        1,
      ),
    );
    expect(old.view().pipeline('p1')?.version).toBe(2);

    const fresh = await state();
    await fresh.seed(old.snapshot());
    const view = fresh.view();
    expect(view.applied()).toEqual({ index: 0, term: 0 });
    expect(view.cluster()).toBeUndefined();
    expect(view.nodes()).toEqual([]);
    expect(view.pipeline('p1')).toMatchObject({ version: 2, desired: 'running' });
    expect(view.versions('p1').map((v) => v.version)).toEqual([1, 2]);
  });

  it('refuses a state that is not empty, and changes nothing', async () => {
    const old = await state();
    await old.apply(entries([{ v: 1, type: 'cluster.init', id: 'c-old', at: 1 }], 1));
    await expect(old.seed(old.snapshot())).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(old.view().cluster()?.id).toBe('c-old');
    expect(old.appliedIndex()).toBe(1);
  });
});
