import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { outcomeOf, type ApplyResult } from '../../../src/cluster/apply-result.js';
import type { ClusterStateMachine } from '../../../src/cluster/fsm.js';
import { taskNodeOf } from '../../../src/cluster/tasks/task-locator.js';
import { WireError } from '../../../src/core/errors.js';
import { chunked, collect, entries, openFsm, tempDir } from './harness.js';

const spec = { name: 'p', source: { type: 'generate', config: { count: 10 } }, sink: { type: 'stdout', config: {} } };
const source = { type: 'generate', config: { count: 10 } };
const node = (id: string) => ({ v: 1, type: 'node.upsert', node: { id, raftAddress: `${id}:1`, httpAddress: `${id}:2`, role: 'voter', labels: {} }, at: 1 });
const setup = [{ v: 1, type: 'cluster.init', id: 'c1', at: 1 }, node('n1'), node('n2'), { v: 1, type: 'pipeline.create', name: 'p', spec, desired: 'running', at: 2 }];
const assign = (task: string, nodeId: string | null, epoch: number, version = 1) => ({
  v: 1,
  type: 'task.assign',
  assignments: [{ pipeline: 'p', task, node: nodeId, epoch, version, source }],
  at: 3,
});
const commit = (nodeId: string, ...cps: Array<{ task: string; epoch: number; seq: number; n?: number }>) => ({
  v: 1,
  type: 'checkpoint.commit',
  node: nodeId,
  checkpoints: cps.map((c) => ({ pipeline: 'p', task: c.task, epoch: c.epoch, seq: c.seq, version: 1, checkpoint: { position: c.n ?? c.seq, updatedAt: 0 } })),
  at: 4,
});

describe('task commands', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let fsm: ClusterStateMachine;
  let next: number;

  beforeEach(async () => {
    dir = await tempDir();
    fsm = await openFsm(dir.path);
    next = 1;
    await run(...setup);
  });
  afterEach(async () => {
    await fsm.close();
    await dir.remove();
  });

  async function run(...commands: unknown[]): Promise<ApplyResult[]> {
    const results = await fsm.apply(entries(commands, next));
    next += commands.length;
    return results;
  }
  const errorOf = (result: ApplyResult | undefined): WireError => {
    if (result?.status !== 'rejected') throw new Error(`expected a rejection, got ${result?.status}`);
    return result.error;
  };

  it('assigns a task to a node at an epoch', async () => {
    const [r] = await run(assign('0', 'n1', 1));
    expect(outcomeOf(r)).toMatchObject({ kind: 'tasks', tasks: [{ pipeline: 'p', task: '0', node: 'n1', epoch: 1, version: 1, drain: false }] });
    expect(fsm.view().tasks('p')).toHaveLength(1);
    expect(fsm.view().task('p', '0')).toMatchObject({ node: 'n1', epoch: 1, source });
  });

  it('only lets epochs grow: an assignment at the same or a lower epoch is a CONFLICT and changes nothing', async () => {
    await run(assign('0', 'n1', 3));
    const [same, lower] = await run(assign('0', 'n2', 3), assign('0', 'n2', 2));
    expect(errorOf(same).code).toBe('CONFLICT');
    expect(errorOf(lower).message).toMatch(/epoch 3/);
    expect(fsm.view().task('p', '0')).toMatchObject({ node: 'n1', epoch: 3 });
    const [higher] = await run(assign('0', 'n2', 4));
    expect(higher?.status).toBe('applied');
  });

  it('assigns a whole batch or none of it', async () => {
    const [r] = await run({
      v: 1,
      type: 'task.assign',
      assignments: [
        { pipeline: 'p', task: '0', node: 'n1', epoch: 1, version: 1, source },
        { pipeline: 'p', task: '1', node: 'n9', epoch: 1, version: 1, source },
      ],
      at: 3,
    });
    expect(errorOf(r).code).toBe('NOT_FOUND');
    expect(fsm.view().tasks('p')).toEqual([]);
  });

  it('refuses an assignment to a version the pipeline does not have yet', async () => {
    const [r] = await run(assign('0', 'n1', 1, 2));
    expect(errorOf(r).code).toBe('CONFLICT');
  });

  it('takes a checkpoint from the assigned node at the current epoch', async () => {
    await run(assign('0', 'n1', 1));
    const [r] = await run(commit('n1', { task: '0', epoch: 1, seq: 1, n: 42 }));
    expect(outcomeOf(r)).toEqual({ kind: 'checkpoints', accepted: 1, refused: [] });
    expect(fsm.view().checkpoint('p', '0')).toMatchObject({ epoch: 1, seq: 1, node: 'n1', checkpoint: { position: 42 } });
  });

  it('refuses a checkpoint of an older epoch, and says so to the proposer, item by item', async () => {
    await run(assign('0', 'n1', 1), assign('1', 'n1', 1), commit('n1', { task: '0', epoch: 1, seq: 1 }), assign('0', 'n2', 2));
    const [r] = await run(commit('n1', { task: '0', epoch: 1, seq: 2, n: 99 }, { task: '1', epoch: 1, seq: 1 }));
    const outcome = outcomeOf(r);
    expect(outcome).toMatchObject({ kind: 'checkpoints', accepted: 1, refused: [{ pipeline: 'p', task: '0', epoch: 1, reason: 'stale-epoch' }] });
    expect(fsm.view().checkpoint('p', '0')).toMatchObject({ epoch: 1, seq: 1, checkpoint: { position: 1 } });
    expect(fsm.view().checkpoint('p', '1')).toMatchObject({ epoch: 1, seq: 1 });
  });

  it('refuses a checkpoint from a node the task is not assigned to, even at its epoch', async () => {
    await run(assign('0', 'n1', 1));
    const [r] = await run(commit('n2', { task: '0', epoch: 1, seq: 1 }));
    expect(outcomeOf(r)).toMatchObject({ accepted: 0, refused: [{ reason: 'not-assigned' }] });
    expect(fsm.view().checkpoint('p', '0')).toBeUndefined();
  });

  it('never moves a checkpoint backwards, in one batch or across batches', async () => {
    await run(assign('0', 'n1', 1), commit('n1', { task: '0', epoch: 1, seq: 5 }));
    const [again, inBatch] = await run(commit('n1', { task: '0', epoch: 1, seq: 5 }), commit('n1', { task: '0', epoch: 1, seq: 7 }, { task: '0', epoch: 1, seq: 6 }));
    expect(outcomeOf(again)).toMatchObject({ accepted: 0, refused: [{ reason: 'backwards' }] });
    expect(outcomeOf(inBatch)).toMatchObject({ accepted: 1, refused: [{ reason: 'backwards' }] });
    expect(fsm.view().checkpoint('p', '0')).toMatchObject({ epoch: 1, seq: 7 });
  });

  it('a new epoch continues from the checkpoint: its first save (seq 0) is ahead of any save of an older epoch', async () => {
    await run(assign('0', 'n1', 1), commit('n1', { task: '0', epoch: 1, seq: 9 }), assign('0', 'n2', 2));
    const [r] = await run(commit('n2', { task: '0', epoch: 2, seq: 0 }));
    expect(outcomeOf(r)).toMatchObject({ accepted: 1 });
  });

  it('drains and releases at the current epoch; the released task takes no more checkpoints', async () => {
    await run(assign('0', 'n1', 1));
    const [d] = await run({ v: 1, type: 'task.drain', tasks: [{ pipeline: 'p', task: '0', epoch: 1 }], at: 5 });
    expect(outcomeOf(d)).toMatchObject({ tasks: [{ drain: true, node: 'n1' }] });
    const [last] = await run(commit('n1', { task: '0', epoch: 1, seq: 1 }));
    expect(outcomeOf(last)).toMatchObject({ accepted: 1 });
    const [wrongNode, rel] = await run({ v: 1, type: 'task.release', pipeline: 'p', task: '0', epoch: 1, node: 'n2', at: 6 }, { v: 1, type: 'task.release', pipeline: 'p', task: '0', epoch: 1, node: 'n1', at: 6 });
    expect(errorOf(wrongNode).code).toBe('CONFLICT');
    expect(outcomeOf(rel)).toMatchObject({ tasks: [{ node: null, drain: false, epoch: 1 }] });
    const [late] = await run(commit('n1', { task: '0', epoch: 1, seq: 2 }));
    expect(outcomeOf(late)).toMatchObject({ accepted: 0, refused: [{ reason: 'not-assigned' }] });
  });

  it('refuses a drain or a release of an older epoch', async () => {
    await run(assign('0', 'n1', 1), assign('0', 'n2', 2));
    const [d, r] = await run(
      { v: 1, type: 'task.drain', tasks: [{ pipeline: 'p', task: '0', epoch: 1 }], at: 5 },
      { v: 1, type: 'task.release', pipeline: 'p', task: '0', epoch: 1, node: 'n1', at: 5 },
    );
    expect(errorOf(d).code).toBe('CONFLICT');
    expect(errorOf(r).code).toBe('CONFLICT');
    expect(fsm.view().task('p', '0')).toMatchObject({ node: 'n2', epoch: 2, drain: false });
  });

  it('removes only released tasks, with their checkpoints', async () => {
    await run(assign('0', 'n1', 1), commit('n1', { task: '0', epoch: 1, seq: 1 }));
    const [busy] = await run({ v: 1, type: 'task.remove', tasks: [{ pipeline: 'p', task: '0' }], at: 5 });
    expect(errorOf(busy).code).toBe('CONFLICT');
    await run({ v: 1, type: 'task.release', pipeline: 'p', task: '0', epoch: 1, node: 'n1', at: 6 }, { v: 1, type: 'task.remove', tasks: [{ pipeline: 'p', task: '0' }], at: 7 });
    expect(fsm.view().task('p', '0')).toBeUndefined();
    expect(fsm.view().checkpoint('p', '0')).toBeUndefined();
  });

  it('keeps an epoch above the checkpoint of a task assigned again', async () => {
    await run(assign('0', 'n1', 4), commit('n1', { task: '0', epoch: 4, seq: 1 }));
    // The checkpoint is at epoch 4: a task record lost or rebuilt must not restart below it.
    const [r] = await run(assign('0', 'n2', 4));
    expect(errorOf(r).code).toBe('CONFLICT');
  });

  it('forgets the tasks and checkpoints of a deleted pipeline, and no other', async () => {
    await run(
      { v: 1, type: 'pipeline.create', name: 'p-2', spec: { ...spec, name: 'p-2' }, desired: 'running', at: 2 },
      assign('0', 'n1', 1),
      { ...assign('0', 'n1', 1), assignments: [{ pipeline: 'p-2', task: '0', node: 'n1', epoch: 1, version: 1, source }] },
      commit('n1', { task: '0', epoch: 1, seq: 1 }),
    );
    expect(fsm.view().tasks('p')).toHaveLength(1);
    await run({ v: 1, type: 'pipeline.delete', name: 'p', at: 9 });
    expect(fsm.view().tasks()).toEqual([expect.objectContaining({ pipeline: 'p-2' })]);
    expect(fsm.view().checkpoint('p', '0')).toBeUndefined();
  });

  it('starts a task recreated under a deleted pipeline above every epoch the old one had', async () => {
    await run(assign('0', 'n1', 7), commit('n1', { task: '0', epoch: 7, seq: 1 }), { v: 1, type: 'pipeline.delete', name: 'p', at: 9 });
    await run({ v: 1, type: 'pipeline.create', name: 'p', spec, desired: 'running', at: 10 });
    const [same, lower] = await run(assign('0', 'n2', 7), assign('0', 'n2', 1));
    expect(errorOf(same).code).toBe('CONFLICT');
    expect(errorOf(lower).message).toMatch(/epoch 7/);
    // The old run's late checkpoint would be taken by a new task at its epoch: the floor keeps it stale.
    const [higher] = await run(assign('0', 'n2', 8));
    expect(higher?.status).toBe('applied');
  });

  it('starts a removed partition assigned again above its last epoch, checkpoint included', async () => {
    await run(assign('0', 'n1', 3), commit('n1', { task: '0', epoch: 3, seq: 1 }));
    await run(assign('0', 'n1', 5), { v: 1, type: 'task.release', pipeline: 'p', task: '0', epoch: 5, node: 'n1', at: 6 }, { v: 1, type: 'task.remove', tasks: [{ pipeline: 'p', task: '0' }], at: 7 });
    const [lower] = await run(assign('0', 'n2', 5));
    expect(errorOf(lower).code).toBe('CONFLICT');
    // Another task without a record starts above the floor too: the floor is the cluster's, not one task's.
    const [other] = await run(assign('1', 'n2', 4));
    expect(errorOf(other).code).toBe('CONFLICT');
    const [higher] = await run(assign('0', 'n2', 6));
    expect(higher?.status).toBe('applied');
  });

  it('keeps the epoch floor through a snapshot', async () => {
    await run(assign('0', 'n1', 7), { v: 1, type: 'pipeline.delete', name: 'p', at: 9 }, { v: 1, type: 'pipeline.create', name: 'p', spec, desired: 'running', at: 10 });
    const copyDir = await tempDir();
    const copy = await openFsm(copyDir.path);
    try {
      await copy.restore(fsm.snapshot());
      expect(copy.view().taskEpochFloor()).toBe(7);
    } finally {
      await copy.close();
      await copyDir.remove();
    }
  });

  it('judges checkpoints against the restored state after a restore, not against what it applied before', async () => {
    // A snapshot taken while task 0 was at seq 2 of epoch 1 (and task 1 at epoch 1); this state then moves on.
    await run(assign('0', 'n1', 1), assign('1', 'n1', 1), commit('n1', { task: '0', epoch: 1, seq: 2 }));
    const earlier = await collect(fsm.snapshot());
    const meta = fsm.applied();
    await run(commit('n1', { task: '0', epoch: 1, seq: 9 }), assign('1', 'n2', 2));
    await fsm.restore(chunked(earlier, 4096), meta);
    next = meta.index + 1;
    const [r] = await run(commit('n1', { task: '0', epoch: 1, seq: 3 }, { task: '1', epoch: 1, seq: 1 }));
    expect(outcomeOf(r)).toEqual({ kind: 'checkpoints', accepted: 2, refused: [] });
    expect(fsm.view().checkpoint('p', '0')).toMatchObject({ epoch: 1, seq: 3 });
    expect(fsm.view().task('p', '1')).toMatchObject({ node: 'n1', epoch: 1 });
  });
});

describe('taskNodeOf', () => {
  it('names the node running a pipeline’s task, and null when none does', async () => {
    const dir = await tempDir();
    const fsm = await openFsm(dir.path);
    try {
      await fsm.apply(entries([...setup, assign('0', 'n2', 1)], 1));
      expect(taskNodeOf(fsm.view(), 'p')).toEqual({ nodeId: 'n2', httpAddress: 'n2:2' });
      expect(taskNodeOf(fsm.view(), 'other')).toBeNull();
      await fsm.apply(entries([{ v: 1, type: 'task.release', pipeline: 'p', task: '0', epoch: 1, node: 'n2', at: 5 }], 6));
      expect(taskNodeOf(fsm.view(), 'p')).toBeNull();
    } finally {
      await fsm.close();
      await dir.remove();
    }
  });
});
