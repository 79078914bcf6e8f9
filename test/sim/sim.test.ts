/**
 * The simulator in CI: the 3-voter part of the 1,024-seed sweep (sweep-5.test.ts has the rest), and tests
 * of the simulator itself: it reaches the faults it claims, replays a seed exactly, catches a bug.
 */
import { describe, expect, it } from 'vitest';
import { MIXES } from './nemesis.js';
import { sweepSeeds } from './seed-sweep.js';
import { runSeed, type RunResult } from './run.js';

sweepSeeds(3, 64);

describe('simulator: the runs exercise the faults they claim', () => {
  it('crash mixes tear writes and flip bits; snapshot mixes install snapshots; churn changes membership; partitions requeue frames', { timeout: 600_000 }, async () => {
    const sum = async (mix: (typeof MIXES)[number], key: string, seeds = 8): Promise<number> => {
      let total = 0;
      for (let i = 0; i < seeds; i++) total += (await runSeed({ seed: 77 + i, nodes: 3, mix })).stats[key] ?? 0;
      return total;
    };
    // A write is torn only across a sector boundary, and most WAL batches fit in one sector: tears are rare.
    expect((await sum('crash', 'tornWrites', 16)) + (await sum('slowdisk', 'tornWrites', 16))).toBeGreaterThan(0);
    expect(await sum('crash', 'fault.corrupt')).toBeGreaterThan(0);
    expect(await sum('crash', 'fault.repair')).toBeGreaterThan(0);
    expect(await sum('snapshot', 'snapshotsInstalled')).toBeGreaterThan(0);
    expect(await sum('churn', 'fault.promote')).toBeGreaterThan(0);
    expect(await sum('transfer', 'fault.transfer')).toBeGreaterThan(0);
    expect(await sum('partition', 'leaders')).toBeGreaterThan(8);
    expect(await sum('partition', 'queuedFrames')).toBeGreaterThan(0);
    expect(await sum('net', 'fault.pause')).toBeGreaterThan(0);
  });
});

describe('simulator: determinism', () => {
  it('the same seed gives the same run, event for event', { timeout: 600_000 }, async () => {
    const a = await runSeed({ seed: 4242, nodes: 5, mix: 'mixed' });
    const b = await runSeed({ seed: 4242, nodes: 5, mix: 'mixed' });
    expect(b.trace).toEqual(a.trace);
    expect(b.stats).toEqual(a.stats);
    const other = await runSeed({ seed: 4243, nodes: 5, mix: 'mixed' });
    expect(other.trace).not.toEqual(a.trace);
  });
});

describe('simulator: it catches a broken driver', () => {
  it('reads served locally without ReadIndex are found not linearizable', { timeout: 600_000 }, async () => {
    const results: RunResult[] = [];
    for (let i = 0; i < 16; i++) results.push(await runSeed({ seed: 500 + i, nodes: 3, mix: 'partition', mutation: 'localReads' }));
    const caught = results.filter((r) => r.failure?.startsWith('linearizability'));
    expect(caught.length).toBeGreaterThan(0);
  });
});
