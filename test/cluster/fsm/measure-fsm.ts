/**
 * Measures the state machine on this disk (run: `npx tsx test/cluster/fsm/measure-fsm.ts`): applies per second
 * one entry per batch and 100 per batch, then snapshot and restore of 10,000 pipelines.
 */
import { ClusterStateMachine } from '../../../src/cluster/fsm.js';
import { collect, entries, tempDir } from './harness.js';

const spec = { source: { type: 'generate', config: { count: 10 } }, sink: { type: 'file', config: { path: '/tmp/out.jsonl' } } };
const dir = await tempDir('wire-fsm-measure-');
try {
  const fsm = await ClusterStateMachine.open({ dir: `${dir.path}/a` });
  await fsm.apply(entries([{ v: 1, type: 'cluster.init', id: 'c1', at: 0 }], 1));
  let index = 2;
  const create = (i: number): unknown => ({ v: 1, type: 'pipeline.create', name: `p-${i}`, spec, desired: 'running', at: i });
  let t = performance.now();
  for (let i = 0; i < 2000; i++) await fsm.apply(entries([create(i)], index++));
  console.log(`apply, 1 entry per batch: ${Math.round(2000 / ((performance.now() - t) / 1000))} entries/s`);
  t = performance.now();
  for (let b = 0; b < 80; b++) {
    await fsm.apply(entries(Array.from({ length: 100 }, (_, k) => create(2000 + b * 100 + k)), index));
    index += 100;
  }
  console.log(`apply, 100 entries per batch: ${Math.round(8000 / ((performance.now() - t) / 1000))} entries/s`);
  t = performance.now();
  const bytes = await collect(fsm.snapshot());
  console.log(`snapshot of 10,000 pipelines: ${bytes.length} bytes in ${Math.round(performance.now() - t)} ms`);
  const other = await ClusterStateMachine.open({ dir: `${dir.path}/b` });
  t = performance.now();
  await other.restore((async function* () { for (let o = 0; o < bytes.length; o += 512 << 10) yield bytes.subarray(o, o + (512 << 10)); })());
  console.log(`restore of it: ${Math.round(performance.now() - t)} ms`);
  await fsm.close();
  await other.close();
} finally {
  await dir.remove();
}
