// The http source cases (issue 8, item 2): Wire's `http → file` pipeline against a hand-written Node server
// that appends each request to a file and answers after a shared fdatasync (bench/baseline/http-ingest.mjs),
// under the same load in the same run. One client measures the answer time; 32 clients measure records/s.
import { spawn, type ChildProcess } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, percentile, runLoad, waitListening, type Load, type LoadResult } from './http-load.js';

export interface HttpIngestOptions {
  readonly wire: string;
  readonly baselineDir: string;
  readonly dir: string;
  readonly scale: number;
  readonly repeat: number;
}

interface Side {
  readonly start: (port: number, output: string) => Promise<ChildProcess>;
}

const round = (n: number, digits = 0): number => Number(n.toFixed(digits));

function loads(scale: number): { latency: Load; throughput: Load } {
  return {
    latency: { clients: 1, requests: Math.max(50, Math.round(1000 * scale)), records: 10 },
    throughput: { clients: 32, requests: Math.max(5, Math.round(50 * scale)), records: 100 },
  };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await closed;
  clearTimeout(timer);
}

/** Starts one side, runs both loads against it, stops it. */
async function measure(side: Side, label: string, dir: string, scale: number): Promise<{ latency: LoadResult; throughput: LoadResult }> {
  const port = await freePort();
  const output = join(dir, `${label}.out`);
  const child = await side.start(port, output);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  try {
    const url = `http://127.0.0.1:${port}/ingest`;
    await waitListening(url, 30_000);
    const { latency, throughput } = loads(scale);
    const result = { latency: await runLoad(url, latency), throughput: await runLoad(url, throughput) };
    if (result.latency.failures + result.throughput.failures > 0) {
      throw new Error(`${label}: ${result.latency.failures + result.throughput.failures} request(s) not answered 200\n${stderr}`);
    }
    return result;
  } finally {
    await stop(child);
    await rm(output, { force: true });
  }
}

function wireSide(o: HttpIngestOptions): Side {
  return {
    start: async (port, output) => {
      const file = join(o.dir, 'http-ingest.yaml');
      const dataDir = join(o.dir, `http-ingest-${port}.wire-data`);
      const yaml = [
        'name: http-ingest-bench',
        'source:',
        '  type: http',
        `  config: { address: "127.0.0.1:${port}", path: /ingest }`,
        'sink:',
        '  type: file',
        `  config: { path: ${JSON.stringify(output)}, format: jsonl }`,
        '',
      ].join('\n');
      await writeFile(file, yaml);
      return spawn(process.execPath, [o.wire, 'run', '--data-dir', dataDir, file], { stdio: ['ignore', 'ignore', 'pipe'] });
    },
  };
}

function baselineSide(o: HttpIngestOptions): Side {
  return {
    start: async (port, output) =>
      spawn(process.execPath, [join(o.baselineDir, 'http-ingest.mjs'), output, String(port)], { stdio: ['ignore', 'ignore', 'pipe'] }),
  };
}

/** Runs the cases; returns one JSON line per case and the targets met. */
export async function runHttpIngestCases(o: HttpIngestOptions): Promise<{ lines: Record<string, unknown>[]; targets: Record<string, boolean> }> {
  let wireLatency: LoadResult | undefined;
  let wireThroughput: LoadResult | undefined;
  let baseLatency: LoadResult | undefined;
  let baseThroughput: LoadResult | undefined;
  const p99 = (r: LoadResult): number => percentile(r.latenciesMs, 99);
  const rate = (r: LoadResult): number => r.records / r.seconds;
  const lower = (best: LoadResult | undefined, r: LoadResult): LoadResult => (best === undefined || p99(r) < p99(best) ? r : best);
  const higher = (best: LoadResult | undefined, r: LoadResult): LoadResult => (best === undefined || rate(r) > rate(best) ? r : best);
  for (let i = 0; i < o.repeat; i++) {
    const base = await measure(baselineSide(o), 'http-baseline', o.dir, o.scale);
    baseLatency = lower(baseLatency, base.latency);
    baseThroughput = higher(baseThroughput, base.throughput);
    const wire = await measure(wireSide(o), 'http-wire', o.dir, o.scale);
    wireLatency = lower(wireLatency, wire.latency);
    wireThroughput = higher(wireThroughput, wire.throughput);
  }
  if (wireLatency === undefined || wireThroughput === undefined || baseLatency === undefined || baseThroughput === undefined) {
    throw new Error('BENCH_REPEAT must be at least 1');
  }
  const ratio = rate(wireThroughput) / rate(baseThroughput);
  const targets = { 'http-ingest-1client.p99': p99(wireLatency) < 10, 'http-ingest-32clients.speed': ratio >= 0.8 };
  const ms = (r: LoadResult, p: number): number => round(percentile(r.latenciesMs, p), 2);
  const lines = [
    {
      name: 'http-ingest-1client',
      requests: wireLatency.latenciesMs.length,
      records_per_request: loads(o.scale).latency.records,
      p50_ms: ms(wireLatency, 50),
      p99_ms: ms(wireLatency, 99),
      max_ms: ms(wireLatency, 100),
      baseline: 'http-fdatasync-group-commit',
      baseline_p50_ms: ms(baseLatency, 50),
      baseline_p99_ms: ms(baseLatency, 99),
      target: 'p99_ms < 10',
      target_met: targets['http-ingest-1client.p99'],
    },
    {
      name: 'http-ingest-32clients',
      records: wireThroughput.records,
      records_per_request: loads(o.scale).throughput.records,
      records_per_s: round(rate(wireThroughput)),
      p50_ms: ms(wireThroughput, 50),
      p99_ms: ms(wireThroughput, 99),
      baseline: 'http-fdatasync-group-commit',
      baseline_records_per_s: round(rate(baseThroughput)),
      baseline_p99_ms: ms(baseThroughput, 99),
      ratio: round(ratio, 3),
      target: 'ratio >= 0.8',
      target_met: targets['http-ingest-32clients.speed'],
    },
  ];
  return { lines, targets };
}
