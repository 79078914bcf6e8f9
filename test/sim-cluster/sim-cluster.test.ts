/**
 * The scheduler and agents simulation in CI: a sweep of seeds (the full ≥ 1,000 is `npm run sim:cluster -- --seeds
 * 1000`), the same seed replaying the same run, and the checker catching what it claims to catch.
 */
import { describe, expect, it } from 'vitest';
import { Prng } from '../sim/prng.js';
import { runSeed } from './run.js';
import { SimRun, type EngineHooks } from './sim-engine.js';
import { World, type SimNode } from './world.js';
import { MemoryCheckpointStore } from '../../src/engine/index.js';

const CI_SEEDS = 48;

/** A run's hooks straight into the world's checks, for runs a test starts by hand. */
function hooksOf(world: World, node: SimNode): EngineHooks {
  return {
    node: node.id,
    clock: node.clock,
    write: (e) => world.invariants.write(e),
    started: (r) => world.invariants.runStarted(r),
    ended: (r) => world.invariants.runEnded(r),
  };
}

describe('simulation of the scheduler and the agents', () => {
  it(`holds every invariant over ${CI_SEEDS} seeds of deaths, restarts, partitions, pauses, drift, leader changes and pipeline changes`, { timeout: 600_000 }, async () => {
    const failures: string[] = [];
    let writes = 0;
    let overlapsChecked = 0;
    for (let seed = 1; seed <= CI_SEEDS; seed++) {
      const r = await runSeed({ seed });
      writes += r.writes;
      overlapsChecked += r.overlapsChecked;
      if (!r.ok) failures.push(`seed ${seed}: ${r.failure} (npm run sim:cluster -- --seed ${seed} --trace)`);
    }
    expect(failures).toEqual([]);
    // The runs did work and moved tasks between nodes while others still ran them: the checks had something to see.
    expect(writes).toBeGreaterThan(CI_SEEDS * 100);
    expect(overlapsChecked).toBeGreaterThan(0);
  });

  it('replays a seed exactly', { timeout: 60_000 }, async () => {
    const [a, b] = [await runSeed({ seed: 7 }), await runSeed({ seed: 7 })];
    expect(b.trace).toEqual(a.trace);
    expect(b.commits).toBe(a.commits);
  });

  it('the checker fails a run where two nodes holding leases run one task', async () => {
    const world = new World(new Prng(1));
    const [n1, n2] = [world.addNode('n1', true), world.addNode('n2', true)];
    const task = { pipeline: 'p', task: '0', epoch: 1, node: 'n1', version: 1, source: {}, drain: false, assignedAt: 0 };
    // Leases held on both nodes, as a broken agent or controller would allow.
    for (const node of [n1, n2]) node.tasks = { lease: { valid: () => true } } as unknown as typeof node.tasks;
    new SimRun(task, new MemoryCheckpointStore(), hooksOf(world, n1));
    new SimRun({ ...task, epoch: 2, node: 'n2' }, new MemoryCheckpointStore(), hooksOf(world, n2));
    await expect(world.runUntil(100)).rejects.toThrow(/both run it holding leases/);
  });

  it('the checker fails a run where two nodes run one task at the same epoch', async () => {
    const world = new World(new Prng(1));
    const [n1, n2] = [world.addNode('n1', true), world.addNode('n2', true)];
    const task = { pipeline: 'p', task: '0', epoch: 3, node: 'n1', version: 1, source: {}, drain: false, assignedAt: 0 };
    new SimRun(task, new MemoryCheckpointStore(), hooksOf(world, n1));
    new SimRun(task, new MemoryCheckpointStore(), hooksOf(world, n2));
    await expect(world.runUntil(10)).rejects.toThrow(/at the same epoch/);
  });
});
