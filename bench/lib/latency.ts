// Latency: a record's read to its write in the sink (generate → map → file), at full rate and at half of it.
import { join } from 'node:path';
import { jsonLines, runChild } from './child.js';

export const LATENCY_P99_TARGET_MS = 5;

export interface LatencyResult {
  readonly name: string;
  readonly records: number;
  readonly records_per_s: number;
  /** Of `records`, those read after the warm-up: p50/p99/max are theirs. */
  readonly measured_records: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly max_ms: number;
  /** Where a batch's time went (see latency-child.ts). */
  readonly stages: unknown;
  /** The records read in the run's first half second, apart (see latency-child.ts): start-up, not steady latency. */
  readonly warmup: unknown;
  /** Every run's p99, of which this line is the median run. */
  readonly p99_runs_ms?: number[];
  readonly target?: string;
  readonly target_met?: boolean;
}

const CHILD = join(import.meta.dirname, 'latency-child.ts');
const ROOT = join(import.meta.dirname, '..', '..');

async function measure(dir: string, records: number, rate?: number): Promise<Omit<LatencyResult, 'name'>> {
  const args = ['--import', 'tsx', CHILD, dir, String(records), ...(rate === undefined ? [] : [String(rate)])];
  // From the repository, where `--import tsx` resolves.
  const result = await runChild(process.execPath, args, { cwd: ROOT, tmpDir: dir, timeoutMs: 5 * 60_000, label: 'latency' });
  const line = jsonLines(result.stdout)[0];
  if (result.code !== 0 || line === undefined) throw new Error(`latency run failed: ${result.stderr.slice(-2000)}`);
  const seconds = Number(line.seconds);
  return {
    records: Number(line.records),
    records_per_s: Math.round(Number(line.records) / seconds),
    measured_records: Number(line.measured_records),
    p50_ms: Number(line.p50_ms),
    p99_ms: Number(line.p99_ms),
    max_ms: Number(line.max_ms),
    stages: line.stages,
    warmup: line.warmup,
  };
}

/** The run whose p99 is the median of these runs (the upper one of the middle two for an even count). */
function medianRun<T extends { p99_ms: number }>(runs: T[]): T {
  return [...runs].sort((a, b) => a.p99_ms - b.p99_ms)[Math.floor(runs.length / 2)]!;
}

/**
 * Full rate first (it gives the pipeline's maximum), then half of it for ~3 s after a half-second warm-up; each `repeat` times, taking turns.
 * Each line is the run with the median p99 (this machine is shared: one run is at the mercy of its neighbours),
 * with every run's p99 beside it.
 */
export async function benchLatency(dir: string, scale: number, repeat = 1): Promise<LatencyResult[]> {
  const fullRuns: Omit<LatencyResult, 'name'>[] = [];
  const halfRuns: Omit<LatencyResult, 'name'>[] = [];
  for (let i = 0; i < repeat; i++) {
    const full = await measure(dir, Math.max(10_000, Math.round(1_000_000 * scale)));
    fullRuns.push(full);
    const rate = Math.max(1000, Math.round(full.records_per_s / 2));
    halfRuns.push(await measure(dir, Math.max(3000, Math.round(rate * 3.5 * Math.min(1, scale))), rate));
  }
  const full = medianRun(fullRuns);
  const half = medianRun(halfRuns);
  const p99s = (runs: Omit<LatencyResult, 'name'>[]): number[] => runs.map((r) => r.p99_ms);
  return [
    { name: 'latency-full-rate', ...full, p99_runs_ms: p99s(fullRuns) },
    {
      name: 'latency-half-rate',
      ...half,
      p99_runs_ms: p99s(halfRuns),
      target: `p99_ms < ${LATENCY_P99_TARGET_MS}`,
      target_met: half.p99_ms < LATENCY_P99_TARGET_MS,
    },
  ];
}
