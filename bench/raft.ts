// `npm run bench:raft`: Wire's Raft against etcd 3.4, in the same invocation, on the same machine.
// Starts three kv-node processes (write-ahead log, one fdatasync per group commit; TCP transport) on loopback, drives
// the leader with closed-loop HTTP PUTs (100-byte values) at each concurrency level, measures the time
// from kill -9 of the leader to a new leader committing a write, then stops everything and deletes its
// data. When `etcd` is on PATH it then runs ../shared/anchors/etcd/run_etcd_bench.sh with the same
// shape of load and prints Wire's figures as ratios of etcd's. One JSON line per figure; never asserts.
//   --duration S (10)  --warmup S (1)  --conc 1,16,64  --failovers N (3)  --skip-etcd
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { etcdUnavailable, runEtcdAnchor, type EtcdLevel } from './raft/etcd.js';
import { measureFailover, type FailoverResult } from './raft/failover.js';
import { KvCluster } from './raft/kv-cluster.js';
import { runLoad, type LoadResult } from './raft/load.js';

const VALUE_SIZE = 100;
const KEYSPACE = 100_000;
/** The targets: ≥ 1.5× etcd's ops/s at concurrency 16 and 64 (issue 3 §5), ≥ 1.0× at concurrency 1 (issue 9); p99 ≤ etcd's at each. */
const targetOpsRatio = (conc: number): number => (conc >= 16 ? 1.5 : 1.0);
const TARGET_FAILOVER_MS = 1_000;
/** kv-node's defaults: 25 ms ticks, election after 12–24 ticks (300–600 ms); etcd runs 100 ms / 1,000 ms. */
const NODE_TIMING = { tick_ms: 25, election_ticks: 12 };

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '1' },
    conc: { type: 'string', default: '1,16,64' },
    failovers: { type: 'string', default: '3' },
    'skip-etcd': { type: 'boolean', default: false },
  },
  strict: true,
});
const durationS = Number(values.duration);
const warmupS = Number(values.warmup);
const concs = values.conc.split(',').map(Number);
const failovers = Number(values.failovers);
if (!(durationS > 0) || !(warmupS >= 0) || concs.some((c) => !Number.isInteger(c) || c < 1) || !Number.isInteger(failovers) || failovers < 0) {
  process.stderr.write('usage: bench/raft.ts [--duration S] [--warmup S] [--conc 1,16,64] [--failovers N] [--skip-etcd]\n');
  process.exit(2);
}

const print = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ bench: 'raft', ...o })}\n`);
const note = (s: string): void => void process.stderr.write(`bench:raft: ${s}\n`);

async function runWire(): Promise<{ levels: LoadResult[]; failover: FailoverResult[] }> {
  const cluster = await KvCluster.create(['--tick-ms', String(NODE_TIMING.tick_ms), '--election-ticks', String(NODE_TIMING.election_ticks)]);
  try {
    note(`starting 3 kv-node processes under ${cluster.root}`);
    await cluster.found(['n1', 'n2', 'n3']);
    const levels: LoadResult[] = [];
    for (const conc of concs) {
      const leader = await cluster.leader(30_000);
      const pids = ['n1', 'n2', 'n3'].map((id) => cluster.pid(id) ?? -1);
      const r = await runLoad({ http: leader.http, conc, durationS, warmupS, valueSize: VALUE_SIZE, keyspace: KEYSPACE, pids });
      levels.push(r);
      print({ system: 'wire', label: '3-member', leader: leader.id, ...r, value_size: VALUE_SIZE, keyspace: KEYSPACE, ...NODE_TIMING });
    }
    const failover: FailoverResult[] = [];
    for (let round = 1; round <= failovers; round++) {
      const f = await measureFailover(cluster, round);
      failover.push(f);
      print({ system: 'wire', failover: f });
    }
    return { levels, failover };
  } catch (err) {
    for (const id of cluster.running()) note(`log tail of ${id}:\n${cluster.logTail(id)}`);
    throw err;
  } finally {
    await cluster.close();
  }
}

function summariseFailover(rounds: readonly FailoverResult[]): void {
  if (rounds.length === 0) return;
  const ms = rounds.map((r) => r.failover_ms).sort((a, b) => a - b);
  const median = ms[Math.floor((ms.length - 1) / 2)]!;
  print({ system: 'wire', failover_summary: { rounds: ms.length, median_ms: median, max_ms: ms[ms.length - 1], target_ms: TARGET_FAILOVER_MS, target_met: ms[ms.length - 1]! < TARGET_FAILOVER_MS } });
}

function printRatios(wire: readonly LoadResult[], etcd: readonly EtcdLevel[]): void {
  for (const w of wire) {
    const e = etcd.find((l) => l.conc === w.conc);
    if (!e) continue;
    const opsRatio = +(w.ops_per_s / e.ops_per_s).toFixed(2);
    const p99Ratio = +(w.p99_ms / e.p99_ms).toFixed(2);
    print({
      ratio: 'wire/etcd',
      conc: w.conc,
      wire_ops_per_s: w.ops_per_s,
      etcd_ops_per_s: e.ops_per_s,
      ops_ratio: opsRatio,
      wire_p99_ms: w.p99_ms,
      etcd_p99_ms: e.p99_ms,
      p99_ratio: p99Ratio,
      p50_ratio: +(w.p50_ms / e.p50_ms).toFixed(2),
      target: { ops_ratio_min: targetOpsRatio(w.conc), p99_ratio_max: 1, met: opsRatio >= targetOpsRatio(w.conc) && p99Ratio <= 1 },
    });
  }
}

async function main(): Promise<void> {
  print({
    env: {
      date: new Date().toISOString(),
      cores: os.cpus().length,
      cpu: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      loadavg: os.loadavg().map((x) => +x.toFixed(2)),
      duration_s: durationS,
      warmup_s: warmupS,
      concs,
    },
  });
  const wire = await runWire();
  summariseFailover(wire.failover);
  const absent = values['skip-etcd'] ? 'skipped (--skip-etcd)' : etcdUnavailable();
  if (absent) {
    print({ system: 'etcd', absent, note: "Wire's figures above stand alone: no ratios without etcd from the same run" });
    return;
  }
  const workDir = await mkdtemp(join(os.tmpdir(), 'wire-bench-etcd-'));
  try {
    note('running the etcd anchor (3 members)');
    const timeoutMs = (concs.length * (durationS + warmupS) + 120) * 1000;
    const etcd = await runEtcdAnchor({ durationS, warmupS, concs, workDir, timeoutMs });
    for (const l of etcd) print({ system: 'etcd', label: l.label, conc: l.conc, ops_per_s: l.ops_per_s, p50_ms: l.p50_ms, p90_ms: l.p90_ms, p99_ms: l.p99_ms, max_ms: l.max_ms, errors: l.errors, etcd_cpu_pct: l.etcd_cpu_pct, host_busy_pct: l.host_busy_pct });
    printRatios(wire.levels, etcd);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:raft failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
