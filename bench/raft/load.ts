/**
 * Closed-loop PUT load against one kv-node (the leader), shaped like the etcd anchor's etcd_bench.mjs:
 * `conc` clients each send one PUT of a 100-byte value to a random key of a 100,000-key space and wait
 * for the answer before the next; a warm-up, then a measured window; latency percentiles over the
 * window. One keep-alive connection per client (undici Pool).
 */
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

export interface LoadOptions {
  readonly http: string;
  readonly conc: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly valueSize: number;
  readonly keyspace: number;
  /** kv-node PIDs, for CPU accounting. */
  readonly pids: readonly number[];
}

export interface LoadResult {
  readonly conc: number;
  readonly ops: number;
  readonly ops_per_s: number;
  readonly p50_ms: number;
  readonly p90_ms: number;
  readonly p99_ms: number;
  readonly p999_ms: number;
  readonly max_ms: number;
  readonly mean_ms: number;
  readonly errors: number;
  /** The first failed request's error, when any failed. */
  readonly first_error?: string;
  readonly node_cpu_pct: number[];
  readonly host_busy_pct: number;
  readonly loadgen_cpu_pct: number;
}

/** The percentile rule etcd_bench.mjs uses (nearest rank), so both sides are summarised alike. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, idx)]!;
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(`http://${o.http}`, { connections: o.conc, pipelining: 1, keepAliveTimeout: 30_000 });
  const body = JSON.stringify({ value: 'x'.repeat(o.valueSize) });
  const headers = { 'content-type': 'application/json' };
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let measuring = false;
  let stop = false;
  let measureEnd = 0n;

  const client = async (): Promise<void> => {
    while (!stop) {
      const key = `bench/${Math.floor(Math.random() * o.keyspace)
        .toString()
        .padStart(8, '0')}`;
      const t0 = process.hrtime.bigint();
      try {
        const res = await pool.request({ path: `/v1/kv/${encodeURIComponent(key)}`, method: 'PUT', headers, body });
        const text = await res.body.text();
        const t1 = process.hrtime.bigint();
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text}`);
        if (measuring && t1 <= measureEnd) latencies.push(Number(t1 - t0) / 1e6);
      } catch (err) {
        if (measuring) errors++;
        firstError ??= (err as Error).message;
        // A failing server must not turn the closed loop into a busy loop.
        await new Promise((r) => setTimeout(r, 10));
      }
    }
  };

  const clients = Array.from({ length: o.conc }, client);
  try {
    await sleep(o.warmupS * 1000);
    const start = process.hrtime.bigint();
    measureEnd = start + BigInt(Math.round(o.durationS * 1e9));
    measuring = true;
    const cpu0 = process.cpuUsage();
    const node0 = o.pids.map(procCpuSeconds);
    const host0 = hostCpu();
    await sleep(o.durationS * 1000);
    const cpu = process.cpuUsage(cpu0);
    const node1 = o.pids.map(procCpuSeconds);
    const host1 = hostCpu();
    const wall = Number(process.hrtime.bigint() - start) / 1e9;
    stop = true;
    await Promise.all(clients);
    if (latencies.length === 0) throw new Error(`no PUT succeeded at concurrency ${o.conc}: ${firstError ?? 'no error seen'}`);
    latencies.sort((a, b) => a - b);
    const round = (x: number): number => +x.toFixed(3);
    return {
      conc: o.conc,
      ops: latencies.length,
      ops_per_s: +(latencies.length / o.durationS).toFixed(1),
      p50_ms: round(percentile(latencies, 50)),
      p90_ms: round(percentile(latencies, 90)),
      p99_ms: round(percentile(latencies, 99)),
      p999_ms: round(percentile(latencies, 99.9)),
      max_ms: round(latencies[latencies.length - 1]!),
      mean_ms: round(latencies.reduce((s, x) => s + x, 0) / latencies.length),
      errors,
      ...(firstError === undefined ? {} : { first_error: firstError.slice(0, 300) }),
      node_cpu_pct: o.pids.map((_, i) => +(((node1[i]! - node0[i]!) / wall) * 100).toFixed(1)),
      host_busy_pct: +((1 - (host1.idle - host0.idle) / (host1.total - host0.total)) * 100).toFixed(1),
      loadgen_cpu_pct: +(((cpu.user + cpu.system) / 1e6 / wall) * 100).toFixed(1),
    };
  } finally {
    stop = true;
    await Promise.allSettled(clients);
    await pool.close();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** utime + stime of a process in seconds (USER_HZ = 100), NaN once it is gone. */
function procCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return NaN;
  }
}

function hostCpu(): { idle: number; total: number } {
  const cols = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { idle: cols[3]! + cols[4]!, total: cols.reduce((s, x) => s + x, 0) };
}
