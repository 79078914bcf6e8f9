// `npm run bench:raft`: Wire's Raft against etcd 3.4, in the same invocation, on the same machine.
// Starts three kv-node processes (write-ahead log, one fdatasync per group commit; TCP transport) on loopback, drives
// the leader with closed-loop HTTP PUTs (100-byte values) at each concurrency level, measures the time
// from kill -9 of the leader to a new leader committing a write, then stops everything and deletes its
// data. When `etcd` is on PATH it then runs ../shared/anchors/etcd/run_etcd_bench.sh with the same
// shape of load and prints Wire's figures as ratios of etcd's. One JSON line per figure; never asserts.
// With --rounds N the pair (Wire, then etcd) runs N times and a last line per concurrency gives the median
// ratios: on a shared machine one pair is at the mercy of whatever else runs during it.
// Each level starts with a warm-up of 5 s, for etcd as for Wire: the first level (concurrency 1) runs on
// freshly started processes, and V8 takes seconds to optimise the code a write goes through (with 1 s,
// Wire's latencies were still halving through the measured window); Go's compiled code needs none.
//   --duration S (10)  --warmup S (5)  --conc 1,16,64  --failovers N (3)  --rounds N (1)  --skip-etcd
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
    warmup: { type: 'string', default: '5' },
    conc: { type: 'string', default: '1,16,64' },
    failovers: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '1' },
    'skip-etcd': { type: 'boolean', default: false },
  },
  strict: true,
});
const durationS = Number(values.duration);
const warmupS = Number(values.warmup);
const concs = values.conc.split(',').map(Number);
const failovers = Number(values.failovers);
const rounds = Number(values.rounds);
const count = (n: number, min: number): boolean => Number.isInteger(n) && n >= min;
if (!(durationS > 0) || !(warmupS >= 0) || concs.some((c) => !count(c, 1)) || !count(failovers, 0) || !count(rounds, 1)) {
  process.stderr.write('usage: bench/raft.ts [--duration S] [--warmup S] [--conc 1,16,64] [--failovers N] [--rounds N] [--skip-etcd]\n');
  process.exit(2);
}

const print = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ bench: 'raft', ...o })}\n`);
const note = (s: string): void => void process.stderr.write(`bench:raft: ${s}\n`);

async function runWire(round: number, failoverRounds: number): Promise<{ levels: LoadResult[]; failover: FailoverResult[] }> {
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
      print({ system: 'wire', ...roundField(round), label: '3-member', leader: leader.id, ...r, value_size: VALUE_SIZE, keyspace: KEYSPACE, ...NODE_TIMING });
    }
    const failover: FailoverResult[] = [];
    for (let n = 1; n <= failoverRounds; n++) {
      const f = await measureFailover(cluster, n);
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

interface Ratio {
  readonly conc: number;
  readonly ops: number;
  readonly p99: number;
}

const roundField = (round: number): { round?: number } => (rounds > 1 ? { round } : {});
const met = (conc: number, ops: number, p99: number): boolean => ops >= targetOpsRatio(conc) && p99 <= 1;

function printRatios(wire: readonly LoadResult[], etcd: readonly EtcdLevel[], round: number): Ratio[] {
  const ratios: Ratio[] = [];
  for (const w of wire) {
    const e = etcd.find((l) => l.conc === w.conc);
    if (!e) continue;
    const opsRatio = +(w.ops_per_s / e.ops_per_s).toFixed(2);
    const p99Ratio = +(w.p99_ms / e.p99_ms).toFixed(2);
    ratios.push({ conc: w.conc, ops: opsRatio, p99: p99Ratio });
    print({
      ratio: 'wire/etcd',
      ...roundField(round),
      conc: w.conc,
      wire_ops_per_s: w.ops_per_s,
      etcd_ops_per_s: e.ops_per_s,
      ops_ratio: opsRatio,
      wire_p99_ms: w.p99_ms,
      etcd_p99_ms: e.p99_ms,
      p99_ratio: p99Ratio,
      p50_ratio: +(w.p50_ms / e.p50_ms).toFixed(2),
      target: { ops_ratio_min: targetOpsRatio(w.conc), p99_ratio_max: 1, met: met(w.conc, opsRatio, p99Ratio) },
    });
    note(`round ${round}, concurrency ${w.conc}: Wire ${w.ops_per_s} ops/s (p99 ${w.p99_ms} ms), etcd ${e.ops_per_s} ops/s (p99 ${e.p99_ms} ms): ${opsRatio}x ops, ${p99Ratio}x p99`);
  }
  return ratios;
}

/** The median of each concurrency's ratios over the rounds (the lower middle one for an even count). */
function printMedians(all: readonly Ratio[]): void {
  for (const conc of concs) {
    const mine = all.filter((r) => r.conc === conc);
    if (mine.length === 0) continue;
    const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
    const ops = median(mine.map((r) => r.ops));
    const p99 = median(mine.map((r) => r.p99));
    print({ ratio: 'wire/etcd median', conc, rounds: mine.length, ops_ratios: mine.map((r) => r.ops), p99_ratios: mine.map((r) => r.p99), ops_ratio: ops, p99_ratio: p99, target: { ops_ratio_min: targetOpsRatio(conc), p99_ratio_max: 1, met: met(conc, ops, p99) } });
    note(`concurrency ${conc} over ${mine.length} rounds: median ${ops}x ops, ${p99}x p99 (target ≥ ${targetOpsRatio(conc)}x ops, ≤ 1x p99): ${met(conc, ops, p99) ? 'met' : 'not met'}`);
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
      rounds,
    },
  });
  const absent = values['skip-etcd'] ? 'skipped (--skip-etcd)' : etcdUnavailable();
  const ratios: Ratio[] = [];
  for (let round = 1; round <= rounds; round++) {
    // Failovers once, in the first round: they measure elections, not throughput.
    const wire = await runWire(round, round === 1 ? failovers : 0);
    summariseFailover(wire.failover);
    if (absent) continue;
    ratios.push(...printRatios(wire.levels, await runEtcd(round), round));
  }
  if (absent) print({ system: 'etcd', absent, note: "Wire's figures above stand alone: no ratios without etcd from the same run" });
  else if (rounds > 1) printMedians(ratios);
}

async function runEtcd(round: number): Promise<EtcdLevel[]> {
  const workDir = await mkdtemp(join(os.tmpdir(), 'wire-bench-etcd-'));
  try {
    note('running the etcd anchor (3 members)');
    const timeoutMs = (concs.length * (durationS + warmupS) + 120) * 1000;
    const etcd = await runEtcdAnchor({ durationS, warmupS, concs, workDir, timeoutMs });
    for (const l of etcd) print({ system: 'etcd', ...roundField(round), label: l.label, conc: l.conc, ops_per_s: l.ops_per_s, p50_ms: l.p50_ms, p90_ms: l.p90_ms, p99_ms: l.p99_ms, max_ms: l.max_ms, errors: l.errors, etcd_cpu_pct: l.etcd_cpu_pct, host_busy_pct: l.host_busy_pct });
    return etcd;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:raft failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
