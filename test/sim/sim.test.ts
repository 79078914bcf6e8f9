/**
 * The simulator in CI: 1024 seeds across every fault mix, on 3 and 5 nodes. A failure names the seed
 * and the command that replays it with a trace.
 */
import { describe, expect, it } from 'vitest';
import { MIXES } from './nemesis.js';
import { runSeed, type RunResult } from './run.js';

const SEEDS_PER_CASE = 64;

function report(failures: RunResult[]): string {
  return failures
    .map((r) => `seed ${r.seed} (${r.nodes} nodes, ${r.mix}): ${r.failure}\n  npm run sim -- --seed ${r.seed} --nodes ${r.nodes} --mix ${r.mix} --trace\n${r.trace.slice(-40).join('\n')}`)
    .join('\n\n');
}

describe('simulator: many seeds under every fault mix', () => {
  for (const nodes of [3, 5]) {
    for (const mix of MIXES) {
      it(`${mix}, ${nodes} nodes: invariants, liveness after healing and linearizability hold for ${SEEDS_PER_CASE} seeds`, () => {
        const results = Array.from({ length: SEEDS_PER_CASE }, (_, i) => runSeed({ seed: 1000 * nodes + i, nodes, mix }));
        const failures = results.filter((r) => !r.ok);
        expect(failures, report(failures)).toEqual([]);
        // The runs did real work: clients got answers and the history was checked.
        expect(results.every((r) => r.stats.acked! > 0 && r.linearizable !== 'not checked')).toBe(true);
      });
    }
  }
});

describe('simulator: the runs exercise the faults they claim', () => {
  it('crash mixes tear writes and recover; snapshot mixes install snapshots; churn changes membership', () => {
    const sum = (mix: (typeof MIXES)[number], key: string): number =>
      Array.from({ length: 8 }, (_, i) => runSeed({ seed: 77 + i, nodes: 3, mix }).stats[key] ?? 0).reduce((a, b) => a + b, 0);
    expect(sum('crash', 'tornWrites')).toBeGreaterThan(0);
    expect(sum('snapshot', 'snapshotsInstalled')).toBeGreaterThan(0);
    expect(sum('churn', 'fault.promote')).toBeGreaterThan(0);
    expect(sum('transfer', 'fault.transfer')).toBeGreaterThan(0);
    expect(sum('partition', 'leaders')).toBeGreaterThan(8);
  });
});

describe('simulator: determinism', () => {
  it('the same seed gives the same run, event for event', () => {
    const a = runSeed({ seed: 4242, nodes: 5, mix: 'mixed' });
    const b = runSeed({ seed: 4242, nodes: 5, mix: 'mixed' });
    expect(b.trace).toEqual(a.trace);
    expect(b.stats).toEqual(a.stats);
    const other = runSeed({ seed: 4243, nodes: 5, mix: 'mixed' });
    expect(other.trace).not.toEqual(a.trace);
  });
});

describe('simulator: it catches a broken driver', () => {
  it('reads served locally without ReadIndex are found not linearizable', () => {
    const results = Array.from({ length: 16 }, (_, i) => runSeed({ seed: 500 + i, nodes: 3, mix: 'partition', mutation: 'localReads' }));
    const caught = results.filter((r) => r.failure?.startsWith('linearizability'));
    expect(caught.length).toBeGreaterThan(0);
  });
});
