// The state machine keeps the task and checkpoint records that apply reads and writes decoded between applies
// (`record-cache.ts`): applying with what it kept must be applying from disk.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ApplyResult } from '../../../src/cluster/apply-result.js';
import type { ClusterStateMachine } from '../../../src/cluster/fsm.js';
import { entries, openFsm, tempDir } from './harness.js';

const spec = { name: 'p', source: { type: 'generate', config: { count: 10 } }, sink: { type: 'stdout', config: {} } };
const source = { type: 'generate', config: { count: 10 } };
const node = (id: string) => ({ v: 1, type: 'node.upsert', node: { id, raftAddress: `${id}:1`, httpAddress: `${id}:2`, role: 'voter', labels: {} }, at: 1 });
const setup = [{ v: 1, type: 'cluster.init', id: 'c1', at: 1 }, node('n1'), node('n2'), { v: 1, type: 'pipeline.create', name: 'p', spec, desired: 'running', at: 2 }];

const task = fc.constantFrom('0', '1', '2');
const nodeId = fc.constantFrom('n1', 'n2');
const epoch = fc.integer({ min: 1, max: 5 });
const taskCommand = fc.oneof(
  fc.record({ task, node: fc.option(nodeId, { nil: null }), epoch }).map((a) => ({ v: 1, type: 'task.assign', assignments: [{ pipeline: 'p', ...a, version: 1, source }], at: 3 })),
  fc.record({ node: nodeId, checkpoints: fc.array(fc.record({ task, epoch, seq: fc.integer({ min: 0, max: 6 }), n: fc.integer({ min: 0, max: 99 }) }), { minLength: 1, maxLength: 4 }) }).map((c) => ({
    v: 1,
    type: 'checkpoint.commit',
    node: c.node,
    checkpoints: c.checkpoints.map((cp) => ({ pipeline: 'p', task: cp.task, epoch: cp.epoch, seq: cp.seq, version: 1, checkpoint: { position: cp.n, updatedAt: 0 } })),
    at: 4,
  })),
  fc.record({ task, epoch }).map((d) => ({ v: 1, type: 'task.drain', tasks: [{ pipeline: 'p', ...d }], at: 5 })),
  fc.record({ task, epoch, node: nodeId }).map((r) => ({ v: 1, type: 'task.release', pipeline: 'p', ...r, at: 6 })),
  task.map((t) => ({ v: 1, type: 'task.remove', tasks: [{ pipeline: 'p', task: t }], at: 7 })),
);

const plain = (results: readonly ApplyResult[]) => results.map((r) => (r.status === 'rejected' ? { status: r.status, code: r.error.code, message: r.error.message } : r));
const stateOf = (fsm: ClusterStateMachine) => {
  const view = fsm.view();
  return { tasks: view.tasks(), checkpoints: ['0', '1', '2'].map((t) => view.checkpoint('p', t) ?? null), floor: view.taskEpochFloor() };
};

describe('the records apply keeps decoded', () => {
  it('give the outcomes and state of applying each entry on a state machine just reopened (nothing kept)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(taskCommand, { minLength: 1, maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 20, maxLength: 20 }), async (commands, splits) => {
        const warmDir = await tempDir();
        const coldDir = await tempDir();
        let warm = await openFsm(warmDir.path);
        let cold = await openFsm(coldDir.path);
        try {
          await warm.apply(entries(setup, 1));
          await cold.apply(entries(setup, 1));
          const all = entries(commands, setup.length + 1);
          const warmResults: ApplyResult[] = [];
          for (let at = 0, k = 0; at < all.length; at += splits[k++]!) warmResults.push(...(await warm.apply(all.slice(at, at + splits[k]!))));
          const coldResults: ApplyResult[] = [];
          for (const entry of all) {
            await cold.close();
            cold = await openFsm(coldDir.path);
            coldResults.push(...(await cold.apply([entry])));
          }
          expect(plain(warmResults)).toEqual(plain(coldResults));
          expect(stateOf(warm)).toEqual(stateOf(cold));
          await warm.close();
          warm = await openFsm(warmDir.path);
          expect(stateOf(warm)).toEqual(stateOf(cold));
        } finally {
          await warm.close();
          await cold.close();
          await warmDir.remove();
          await coldDir.remove();
        }
      }),
      { seed: 1111, numRuns: 30 },
    );
  });
});
