/**
 * The CI sweep: seeds per fault mix on `nodes` voters (two test files, so the halves run in
 * parallel). A failure names the seed and the command that replays it with a trace.
 */
import { describe, expect, it } from 'vitest';
import { MIXES } from './nemesis.js';
import { runSeed, type RunResult } from './run.js';

/** 64 seeds take seconds on an idle machine; a shared one may be many times slower. */
const CASE_TIMEOUT_MS = 600_000;

function report(failures: RunResult[]): string {
  return failures
    .map((r) => `seed ${r.seed} (${r.nodes} nodes, ${r.mix}): ${r.failure}\n  npm run sim -- --seed ${r.seed} --nodes ${r.nodes} --mix ${r.mix} --trace\n${r.trace.slice(-40).join('\n')}`)
    .join('\n\n');
}

export function sweepSeeds(nodes: number, seedsPerMix: number): void {
  describe(`simulator: ${seedsPerMix} seeds per fault mix on ${nodes} voters`, () => {
    for (const mix of MIXES) {
      it(`${mix}: invariants, no silent loss, liveness after healing and linearizability hold`, { timeout: CASE_TIMEOUT_MS }, async () => {
        const results: RunResult[] = [];
        for (let i = 0; i < seedsPerMix; i++) results.push(await runSeed({ seed: 1000 * nodes + i, nodes, mix }));
        const failures = results.filter((r) => !r.ok);
        expect(failures, report(failures)).toEqual([]);
        // The runs did real work: clients got answers and the history was checked.
        expect(results.every((r) => r.stats.acked! > 0 && r.linearizable !== 'not checked')).toBe(true);
      });
    }
  });
}
