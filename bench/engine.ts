// `npm run bench`: Wire's engine against hand-written Node programs, in the same invocation.
// Generates inputs in a temp dir, runs each case as `node bin/wire.js run --json` and its baseline as
// child processes, and prints one JSON line per case (then one line of targets). Figures, never asserts.
// BENCH_SCALE=0.1 shrinks every input (for a quick look); the figures are at scale 1.
// BENCH_REPEAT=N (default 3) runs every program N times, taking turns (baseline, Wire, baseline, Wire, ...) so
// that a slow spell of this shared machine hits both sides alike, and keeps each one's fastest run.
// BENCH_ONLY=a,b runs only the cases whose names start with one of these (e.g. `startup,latency`).
// After the file cases: start-up (`wire run` of a 3-line file against `node -e 0`), latency (read → sink write)
// and the http source (`http-ingest-…`); then the connectors (`redis-sink`, `postgres-sink`, `elasticsearch-sink`: bench/connectors.ts).
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchCases, pipelineYaml, PEAK_RSS_TARGET_MB, type BenchCase } from './lib/cases.js';
import { benchLatency } from './lib/latency.js';
import { benchStartup } from './lib/startup.js';
import { runChild, jsonLines, type ChildResult } from './lib/child.js';
import { generateInput } from './lib/generate.js';
import { runHttpIngestCases } from './lib/http-ingest.js';
import { runConnectorCases } from './connectors.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const WIRE = join(ROOT, 'bin', 'wire.js');
const BASELINE = join(ROOT, 'bench', 'baseline');
const TIMEOUT_MS = 10 * 60_000;

interface Measured {
  readonly records: number;
  readonly seconds: number;
  readonly peakRssMb: number | undefined;
  readonly outputBytes: number;
}

function fail(what: string, result: ChildResult): never {
  throw new Error(`${what} failed (code ${result.code}, signal ${result.signal}):\n${result.stderr.slice(-2000)}`);
}

async function runBaseline(c: BenchCase, which: BenchCase['baseline'], input: string, dir: string): Promise<Measured> {
  const output = join(dir, `${c.name}.${which}.out`);
  const args =
    which === 'workers-2'
      ? [join(BASELINE, 'workers.mjs'), input, output, '2']
      : [join(BASELINE, 'single.mjs'), input, output, which === 'copy' ? 'copy' : 'filter-map'];
  const result = await runChild(process.execPath, args, { cwd: dir, tmpDir: dir, timeoutMs: TIMEOUT_MS, label: `${c.name}-${which}` });
  if (result.code !== 0) fail(`baseline ${which}`, result);
  const report = jsonLines(result.stdout)[0];
  if (report === undefined) fail(`baseline ${which} (no report)`, result);
  const outputBytes = (await stat(output)).size;
  await rm(output, { force: true });
  return {
    records: Number(report.records),
    seconds: Number(report.seconds),
    peakRssMb: result.timeRssMb ?? Number(report.peak_rss_mb),
    outputBytes,
  };
}

async function runWire(c: BenchCase, input: string, dir: string): Promise<Measured & { wallSeconds: number; workers: number }> {
  const output = join(dir, `${c.name}.wire.out`);
  const file = join(dir, `${c.name}.yaml`);
  await writeFile(file, pipelineYaml(c, input, output));
  const dataDir = join(dir, `${c.name}.wire-data`);
  const result = await runChild(process.execPath, [WIRE, 'run', '--json', '--data-dir', dataDir, file], {
    cwd: dir,
    tmpDir: dir,
    timeoutMs: TIMEOUT_MS,
    label: `${c.name}-wire`,
  });
  if (result.code !== 0) fail('wire run', result);
  const summary = jsonLines(result.stderr).find((line) => line.type === 'summary');
  if (summary === undefined) fail('wire run (no summary line)', result);
  const outputBytes = (await stat(output)).size;
  await rm(output, { force: true });
  await rm(dataDir, { recursive: true, force: true });
  return {
    records: Number(summary.records_in),
    seconds: Number(summary.elapsed_s),
    wallSeconds: result.wallSeconds,
    workers: Number(summary.workers),
    peakRssMb: result.timeRssMb ?? Number(summary.peak_rss_mb),
    outputBytes,
  };
}

const round = (n: number, digits = 0): number => Number(n.toFixed(digits));

/** The faster of two runs (either may be missing): on a shared, noisy machine that is the least disturbed figure. */
function faster<T extends Measured>(best: T | undefined, result: T): T {
  return best === undefined || result.records / result.seconds > best.records / best.seconds ? result : best;
}

async function main(): Promise<void> {
  const scale = Number(process.env.BENCH_SCALE ?? '1');
  if (!(scale > 0)) throw new Error(`BENCH_SCALE must be a positive number, got ${process.env.BENCH_SCALE}`);
  const repeat = Number(process.env.BENCH_REPEAT ?? '3');
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`BENCH_REPEAT must be a positive integer, got ${process.env.BENCH_REPEAT}`);
  const only = process.env.BENCH_ONLY?.split(',').filter((name) => name !== '');
  const wanted = (name: string): boolean => only === undefined || only.some((prefix) => name.startsWith(prefix));
  const dir = await mkdtemp(join(tmpdir(), 'wire-bench-'));
  const inputs = new Map<string, { path: string; bytes: number }>();
  const targets: Record<string, boolean> = {};
  try {
    for (const c of benchCases(scale)) {
      if (!wanted(c.name)) continue;
      const inputKey = `${c.kind}-${c.records}`;
      let input = inputs.get(inputKey);
      if (input === undefined) {
        const path = join(dir, `${inputKey}.jsonl`);
        input = { path, bytes: await generateInput(path, c.records, c.kind) };
        inputs.set(inputKey, input);
      }
      let baseline: Measured | undefined;
      let single: Measured | undefined;
      let wire: Awaited<ReturnType<typeof runWire>> | undefined;
      for (let i = 0; i < repeat; i++) {
        baseline = faster(baseline, await runBaseline(c, c.baseline, input.path, dir));
        if (c.transforms && c.baseline !== 'single') single = faster(single, await runBaseline(c, 'single', input.path, dir));
        wire = faster(wire, await runWire(c, input.path, dir));
      }
      if (baseline === undefined || wire === undefined) throw new Error('BENCH_REPEAT must be at least 1');
      const recordsPerSecond = wire.records / wire.seconds;
      const baselinePerSecond = baseline.records / baseline.seconds;
      const ratio = recordsPerSecond / baselinePerSecond;
      const speedMet =
        c.target.ratio !== undefined ? ratio >= c.target.ratio : recordsPerSecond >= (c.target.recordsPerSecond ?? 0);
      const rssMet = wire.peakRssMb !== undefined && wire.peakRssMb < PEAK_RSS_TARGET_MB;
      targets[`${c.name}.speed`] = speedMet;
      targets[`${c.name}.peak_rss`] = rssMet;
      const line = {
        name: c.name,
        records: wire.records,
        seconds: round(wire.seconds, 3),
        wall_seconds: round(wire.wallSeconds, 3),
        records_per_s: round(recordsPerSecond),
        mb_per_s: round(input.bytes / 1e6 / wire.seconds, 1),
        peak_rss_mb: wire.peakRssMb,
        workers: wire.workers,
        baseline: c.baseline,
        baseline_records_per_s: round(baselinePerSecond),
        ratio: round(ratio, 3),
        ...(single === undefined ? {} : { baseline_1thread_records_per_s: round(single.records / single.seconds) }),
        // Same transform, same input: Wire's output must be as long as the hand-written one's.
        output_matches_baseline: wire.outputBytes === baseline.outputBytes,
        target: c.target.ratio !== undefined ? `ratio >= ${c.target.ratio}` : `records_per_s >= ${c.target.recordsPerSecond}`,
        target_met: speedMet,
        peak_rss_target_met: rssMet,
      };
      process.stdout.write(JSON.stringify(line) + '\n');
    }
    if (wanted('startup')) {
      const startup = await benchStartup(WIRE, dir, 5 * repeat);
      targets[`${startup.name}.ratio`] = startup.target_met;
      process.stdout.write(JSON.stringify(startup) + '\n');
    }
    if (wanted('latency')) {
      for (const line of await benchLatency(dir, scale, repeat)) {
        if (line.target_met !== undefined) targets[`${line.name}.p99`] = line.target_met;
        process.stdout.write(JSON.stringify(line) + '\n');
      }
    }
    if (wanted('http')) {
      const http = await runHttpIngestCases({ wire: WIRE, baselineDir: BASELINE, dir, scale, repeat });
      for (const line of http.lines) process.stdout.write(JSON.stringify(line) + '\n');
      Object.assign(targets, http.targets);
    }
    const connectors = await runConnectorCases({ wire: WIRE, dir, scale, repeat, wanted });
    for (const line of connectors.lines) process.stdout.write(JSON.stringify(line) + '\n');
    Object.assign(targets, connectors.targets);
    process.stdout.write(JSON.stringify({ targets, all_met: Object.values(targets).every(Boolean) }) + '\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
