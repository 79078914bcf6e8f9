// Start-up: `wire run` of a 3-line file against a bare `node -e 0`, taking turns, median of each.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runChild } from './child.js';

export const STARTUP_TARGET_RATIO = 2;

export interface StartupResult {
  readonly name: 'startup-3-lines';
  readonly wire_median_s: number;
  readonly node_median_s: number;
  readonly ratio: number;
  readonly target: string;
  readonly target_met: boolean;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

export async function benchStartup(wire: string, dir: string, runs: number): Promise<StartupResult> {
  const input = join(dir, 'startup.jsonl');
  const file = join(dir, 'startup.yaml');
  await writeFile(input, '{"a":1}\n{"a":2}\n{"a":3}\n');
  await writeFile(
    file,
    `name: startup\nsource: { type: file, config: { path: ${JSON.stringify(input)} } }\n` +
      `sink: { type: file, config: { path: ${JSON.stringify(join(dir, 'startup.out.jsonl'))} } }\n`,
  );
  const options = { cwd: dir, tmpDir: dir, timeoutMs: 60_000, label: 'startup' };
  const wireTimes: number[] = [];
  const nodeTimes: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const bare = await runChild(process.execPath, ['-e', '0'], options);
    const run = await runChild(process.execPath, [wire, 'run', '--from-start', '--data-dir', join(dir, 'startup-data'), file], options);
    if (run.code !== 0) throw new Error(`wire run (start-up) failed: ${run.stderr.slice(-2000)}`);
    if (i === 0) continue; // a warm-up: the first run reads the files from disk
    nodeTimes.push(bare.wallSeconds);
    wireTimes.push(run.wallSeconds);
  }
  const wireMedian = median(wireTimes);
  const nodeMedian = median(nodeTimes);
  const ratio = wireMedian / nodeMedian;
  return {
    name: 'startup-3-lines',
    wire_median_s: Number(wireMedian.toFixed(3)),
    node_median_s: Number(nodeMedian.toFixed(3)),
    ratio: Number(ratio.toFixed(2)),
    target: `ratio <= ${STARTUP_TARGET_RATIO}`,
    target_met: ratio <= STARTUP_TARGET_RATIO,
  };
}
