// `npm run bench:cluster`: a cluster of three `wire node` processes on loopback, through its HTTP API.
// Prints one JSON line per figure (never asserts):
//   formation   — from spawning three nodes (--bootstrap-expect 3) to the first committed API write; median of --runs;
//                 with, per run, when two of them (a quorum) had printed their ready line (process start: module
//                 loading, the state and the API) and the time from then to the commit (discovery, election, the write)
//   failover    — API write unavailability after kill -9 of the leader: from the kill to the next write answered
//                 by a surviving node; median of --runs
//   updates     — pipeline replaces (PUT /v1/pipelines/NAME) per second and their p50/p99 at each --conc, closed loop
//                 against a follower (so each write is forwarded, as a client that picks any node sees it)
//   security    — the cost of TLS + auth: API writes (a token on each) through a follower with plain, node-port mTLS
//                 and full TLS (+ client certificates), a route with and without auth, and Raft's transport plain
//                 against mTLS; ratios pair by pair, median of --runs rounds (bench/lib/cluster-security.ts)
//   --runs N (5)  --duration S (5)  --conc 1,16  --figures formation,failover,updates,security (all)
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { auth, isLive, spawnNodes, stopNodes, type BenchNode } from './lib/cluster-nodes.js';
import { securityCost } from './lib/cluster-security.js';

const TARGET_FORMATION_MS = 2_000;
const TARGET_FAILOVER_MS = 2_000;

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, duration: { type: 'string', default: '5' }, conc: { type: 'string', default: '1,16' }, figures: { type: 'string', default: 'formation,failover,updates,security' } },
});
const RUNS = Number(values.runs);
const DURATION_MS = Number(values.duration) * 1000;
const LEVELS = values.conc.split(',').map(Number);
const FIGURES = new Set(values.figures.split(','));

const print = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ bench: 'cluster', ...o })}\n`);

class Cluster {
  private constructor(
    readonly dir: string,
    readonly nodes: readonly BenchNode[],
  ) {}

  /** Spawns three nodes that form with --bootstrap-expect 3; `startedAt` is taken just before the first spawn. */
  static async spawn(): Promise<{ cluster: Cluster; startedAt: number }> {
    const dir = await mkdtemp(join(os.tmpdir(), 'wire-bench-cluster-'));
    const { nodes, startedAt } = await spawnNodes(dir);
    return { cluster: new Cluster(dir, nodes), startedAt };
  }

  async leader(): Promise<BenchNode> {
    for (;;) {
      for (const node of this.live()) {
        const view = await getJson<{ leaderId: string | null }>(node, '/v1/cluster');
        const leader = this.live().find((n) => n.id === view?.leaderId);
        if (leader !== undefined) return leader;
      }
      await sleep(20);
    }
  }

  live(): BenchNode[] {
    return this.nodes.filter(isLive);
  }

  async close(): Promise<void> {
    await stopNodes(this.nodes);
    await rm(this.dir, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getJson<T>(node: BenchNode, path: string): Promise<T | undefined> {
  try {
    const res = await fetch(`http://${node.http}${path}`, { headers: auth(node), signal: AbortSignal.timeout(1_000) });
    return res.ok ? ((await res.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

// Each version changes generate's count, which makes old positions meaningless: the updates say `reset=true`.
const pipelineText = (name: string, count: number) => `name: ${name}\nsource:\n  type: generate\n  config:\n    count: ${count}\nsink:\n  type: stdout\n`;

/** One write's HTTP status; 0 when there was no answer (a node dead or not up yet, or the timeout). */
async function send(node: BenchNode, method: 'POST' | 'PUT', path: string, body: string, timeoutMs: number): Promise<number> {
  try {
    const res = await fetch(`http://${node.http}${path}`, { method, headers: { 'content-type': 'application/yaml', ...auth(node) }, body, signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

const ok = (status: number) => status >= 200 && status < 300;

/** A write answered 2xx; anything else is counted and retried by the caller. */
async function write(node: BenchNode, method: 'POST' | 'PUT', path: string, body: string, timeoutMs = 5_000): Promise<boolean> {
  return ok(await send(node, method, path, body, timeoutMs));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const round = (x: number) => Math.round(x * 10) / 10;

async function formation(): Promise<{ total: number; started: number }> {
  const { cluster, startedAt } = await Cluster.spawn();
  try {
    // 409: an earlier attempt whose answer timed out did commit; either way a write has committed. A node is sent
    // the write once its admin token is there (a client without one is refused, and the API then limits it).
    for (let n = 0; ; n++) {
      const node = cluster.nodes[n % 3]!;
      if (auth(node).authorization === undefined) {
        if (n % 3 === 2) await sleep(5);
        continue;
      }
      const status = await send(node, 'POST', '/v1/pipelines', pipelineText('formed', 1), 5_000);
      if (ok(status) || status === 409) {
        const committedAt = performance.now();
        // A quorum (two of three) is what a commit needs: the third may finish starting after it.
        const quorumReady = (await Promise.all(cluster.nodes.map((node) => node.ready))).sort((a, b) => a - b)[1]!;
        return { total: committedAt - startedAt, started: quorumReady - startedAt };
      }
      await sleep(5);
    }
  } finally {
    await cluster.close();
  }
}

async function failover(): Promise<number> {
  const { cluster } = await Cluster.spawn();
  try {
    const first = await cluster.leader();
    while (!(await write(first, 'POST', '/v1/pipelines', pipelineText('f', 1)))) await sleep(10);
    const killedAt = performance.now();
    first.child.kill('SIGKILL');
    let version = 1;
    for (let n = 0; ; n++) {
      const survivor = cluster.live()[n % 2]!;
      if (await write(survivor, 'PUT', '/v1/pipelines/f?reset=true', pipelineText('f', ++version), 1_000)) return performance.now() - killedAt;
      if (performance.now() - killedAt > 60_000) throw new Error('failover: no write answered within 60 s of the kill');
      await sleep(5);
    }
  } finally {
    await cluster.close();
  }
}

async function updates(conc: number): Promise<Record<string, unknown>> {
  const { cluster } = await Cluster.spawn();
  try {
    const leader = await cluster.leader();
    const target = cluster.nodes.find((n) => n.id !== leader.id)!;
    // Stopped: this figure is the cost of a replicated write, not of the tasks each new version would start.
    for (let w = 0; w < conc; w++) while (!(await write(leader, 'POST', '/v1/pipelines?desired=stopped', pipelineText(`p${w}`, 1)))) await sleep(10);
    // The follower checks a write against its own state before forwarding it: wait until it has applied the creates.
    const last = `p${conc - 1}`;
    while ((await getJson(target, `/v1/pipelines/${last}`)) === undefined) await sleep(10);
    const latencies: number[] = [];
    const failed: Record<string, number> = {};
    const deadline = performance.now() + DURATION_MS;
    const startedAt = performance.now();
    await Promise.all(
      Array.from({ length: conc }, async (_, w) => {
        for (let i = 2; performance.now() < deadline; i++) {
          const t0 = performance.now();
          const status = await send(target, 'PUT', `/v1/pipelines/p${w}?reset=true`, pipelineText(`p${w}`, i), 10_000);
          if (ok(status)) latencies.push(performance.now() - t0);
          else failed[status] = (failed[status] ?? 0) + 1;
        }
      }),
    );
    const elapsed = performance.now() - startedAt;
    const sorted = latencies.sort((a, b) => a - b);
    return { figure: 'updates', conc, ops_per_s: round((latencies.length / elapsed) * 1000), p50_ms: round(percentile(sorted, 0.5)), p99_ms: round(percentile(sorted, 0.99)), failed, via: 'follower' };
  } finally {
    await cluster.close();
  }
}

if (FIGURES.has('formation')) {
  const runs: Array<{ total: number; started: number }> = [];
  for (let i = 0; i < RUNS; i++) runs.push(await formation());
  const formations = runs.map((r) => r.total);
  print({
    figure: 'formation',
    median_ms: round(median(formations)),
    runs_ms: formations.map(round),
    started_ms: runs.map((r) => round(r.started)),
    after_start_ms: runs.map((r) => round(r.total - r.started)),
    target_ms: TARGET_FORMATION_MS,
  });
}

if (FIGURES.has('failover')) {
  const failovers: number[] = [];
  for (let i = 0; i < RUNS; i++) failovers.push(await failover());
  print({ figure: 'failover', median_ms: round(median(failovers)), runs_ms: failovers.map(round), target_ms: TARGET_FAILOVER_MS });
}

if (FIGURES.has('updates')) for (const conc of LEVELS) print(await updates(conc));

if (FIGURES.has('security')) for (const row of await securityCost({ durationMs: DURATION_MS, conc: Math.max(...LEVELS), rounds: RUNS })) print(row);
