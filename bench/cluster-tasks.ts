// `npm run bench:cluster` (after bench/cluster.ts): the cluster running pipelines. One JSON line per figure (never asserts):
//   task_failover    — kill -9 of the node running a generate → file task: from the kill to the first record the
//                      new node writes to the shared file; median and max of --runs (target < 3 s)
//   task_vs_run      — the same generate → file pipeline as one cluster task and with `wire run`: the engine's
//                      records/s in each, and their ratio (target ≥ 0.9)
//   tasks_1000       — --tasks pipelines (one task each, generate at 1 record/s → drop) on 3 nodes, checkpointing every
//                      second: Raft commits/s, p99 checkpoint commit latency, CPU of each node over --duration
//   --runs N (5)  --duration S (10)  --tasks N (1000)  --records N (3000000)
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { freePort } from './lib/free-port.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BIN = join(ROOT, 'bin', 'wire.js');

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    duration: { type: 'string', default: '10' },
    tasks: { type: 'string', default: '1000' },
    records: { type: 'string', default: '3000000' },
    only: { type: 'string', default: 'failover,vs_run,tasks' },
  },
});
const RUNS = Number(values.runs);
const DURATION_MS = Number(values.duration) * 1000;
const TASKS = Number(values.tasks);
const RECORDS = Number(values.records);
const ONLY = new Set(values.only.split(','));

const print = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ bench: 'cluster', ...o })}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number) => Math.round(x * 10) / 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface BenchNode {
  readonly id: string;
  readonly http: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
}

const tokens = new Map<BenchNode, string>();

/** The node's admin token (its first start writes it once the cluster has formed): every API route requires one. */
function auth(node: BenchNode): Record<string, string> {
  let token = tokens.get(node);
  if (token === undefined) {
    try {
      token = readFileSync(join(node.dataDir, 'admin.token'), 'utf8').trim();
    } catch {
      return {};
    }
    // Read while the node writes it: empty, and the next call reads it again.
    if (token === '') return {};
    tokens.set(node, token);
  }
  return { authorization: `Bearer ${token}` };
}

async function spawnCluster(dir: string): Promise<BenchNode[]> {
  const ports = await Promise.all(Array.from({ length: 6 }, freePort));
  const raft = [0, 1, 2].map((i) => `127.0.0.1:${ports[2 * i + 1]}`);
  const nodes: BenchNode[] = [0, 1, 2].map((i) => {
    const id = `n${i + 1}`;
    const http = `127.0.0.1:${ports[2 * i]}`;
    const args = [BIN, 'node', '--node-id', id, '--data-dir', join(dir, id), '--http-addr', http, '--raft-addr', raft[i]!, '--bootstrap-expect', '3', '--join', raft.join(','), '--allow-path', dir, '--log-level', 'error'];
    return { id, http, dataDir: join(dir, id), child: spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] }) };
  });
  for (const n of nodes) while (!(await get(n, '/readyz')) || Object.keys(auth(n)).length === 0) await sleep(20);
  return nodes;
}

async function killAll(nodes: readonly BenchNode[]): Promise<void> {
  await Promise.all(
    nodes
      .filter((n) => n.child.exitCode === null && n.child.signalCode === null)
      .map((n) => new Promise((done) => {
        n.child.once('close', done);
        n.child.kill('SIGKILL');
      })),
  );
}

async function get<T = unknown>(node: BenchNode, path: string): Promise<T | undefined> {
  try {
    const res = await fetch(`http://${node.http}${path}`, { headers: auth(node), signal: AbortSignal.timeout(2_000) });
    if (!res.ok) return undefined;
    const text = await res.text();
    try {
      return JSON.parse(text) as T;
    } catch {
      return text as T;
    }
  } catch {
    return undefined;
  }
}

async function create(node: BenchNode, text: string): Promise<void> {
  for (;;) {
    try {
      const res = await fetch(`http://${node.http}/v1/pipelines`, { method: 'POST', headers: { 'content-type': 'application/yaml', ...auth(node) }, body: text, signal: AbortSignal.timeout(10_000) });
      const answer = await res.text();
      if (res.ok || res.status === 409) return;
      // 503 (no leader yet) and 429 are retried; any other refusal is the bench's own bug.
      if (res.status !== 503 && res.status !== 429) throw new Error(`create answered ${res.status}: ${answer}`);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('create answered')) throw error;
      // retried: a node not up yet, or a timeout
    }
    await sleep(20);
  }
}

interface Task {
  readonly node: string | null;
  readonly epoch: number;
  readonly state: string;
  readonly rate: number;
  readonly recordsOut: number;
}

async function task(node: BenchNode, pipeline: string): Promise<Task | undefined> {
  return (await get<{ tasks: Task[] }>(node, `/v1/pipelines/${pipeline}/status`))?.tasks[0];
}

const sizeOf = async (file: string): Promise<number> => (await stat(file).catch(() => ({ size: 0 }))).size;

async function taskFailover(): Promise<number> {
  const dir = await mkdtemp(join(os.tmpdir(), 'wire-bench-tasks-'));
  const nodes = await spawnCluster(dir);
  try {
    const file = join(dir, 'out.jsonl');
    await create(nodes[0]!, `name: f\nsource:\n  type: generate\n  config: { rate: 5000 }\nsink:\n  type: file\n  config: { path: ${JSON.stringify(file)} }\n`);
    let t: Task | undefined;
    while (!(t = await task(nodes[0]!, 'f'))?.node || t.state !== 'running') await sleep(20);
    while ((await sizeOf(file)) < 100_000) await sleep(20);
    const victim = nodes.find((n) => n.id === t!.node)!;
    const exited = new Promise((r) => victim.child.once('close', r));
    victim.child.kill('SIGKILL');
    const killedAt = performance.now();
    await exited;
    // The new node truncates the file to the checkpoint's length, then writes: the first growth past the smallest
    // size seen since the kill is its first record (the killed process writes nothing more).
    let low = await sizeOf(file);
    for (;;) {
      const size = await sizeOf(file);
      if (size > low) return performance.now() - killedAt;
      low = Math.min(low, size);
      await sleep(2);
    }
  } finally {
    await killAll(nodes);
    await rm(dir, { recursive: true, force: true });
  }
}

async function taskVsRun(): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(os.tmpdir(), 'wire-bench-tasks-'));
  const pipeline = (file: string) => `name: t\nsource:\n  type: generate\n  config: { count: ${RECORDS} }\nsink:\n  type: file\n  config: { path: ${JSON.stringify(file)} }\n`;
  try {
    const runFile = join(dir, 'run.yaml');
    await writeFile(runFile, pipeline(join(dir, 'run.jsonl')));
    // The JSON summary goes to stderr (stdout is the data's).
    const { stderr } = await promisify(execFile)(process.execPath, [BIN, 'run', runFile, '--json', '--data-dir', join(dir, 'run-data')], { maxBuffer: 1 << 24 });
    const summary = stderr
      .split('\n')
      .filter((l) => l.includes('"summary"'))
      .map((l) => JSON.parse(l) as { records_per_s: number })[0];
    const nodes = await spawnCluster(dir);
    try {
      await create(nodes[0]!, pipeline(join(dir, 'task.jsonl')));
      let t: Task | undefined;
      while ((t = await task(nodes[0]!, 't'))?.state !== 'completed') await sleep(50);
      // The lease that reported completion carries the run's final summary rate.
      const runRate = summary?.records_per_s ?? 0;
      return { figure: 'task_vs_run', records: RECORDS, run_records_per_s: Math.round(runRate), task_records_per_s: Math.round(t!.rate), ratio: runRate > 0 ? Math.round((t!.rate / runRate) * 100) / 100 : null, target_ratio: 0.9 };
    } finally {
      await killAll(nodes);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const ticks = async (pid: number): Promise<number> => {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]);
};

const metric = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);

/** p99 of a Prometheus histogram from two scrapes' cumulative buckets. */
function p99(before: string, after: string, name: string): number | null {
  const buckets = (text: string) => [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)`, 'gm'))].map((m) => [m[1]!, Number(m[2])] as const);
  const a = new Map(buckets(before));
  const rows = buckets(after).map(([le, n]) => [le, n - (a.get(le) ?? 0)] as const);
  const total = rows.at(-1)?.[1] ?? 0;
  if (total === 0) return null;
  const row = rows.find(([, n]) => n >= total * 0.99);
  return row ? Number(row[0]) * 1000 : null;
}

async function thousandTasks(): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(os.tmpdir(), 'wire-bench-tasks-'));
  const nodes = await spawnCluster(dir);
  try {
    const createdAt = performance.now();
    for (let i = 0; i < TASKS; i += 16) {
      await Promise.all(
        Array.from({ length: Math.min(16, TASKS - i) }, (_, k) => create(nodes[(i + k) % 3]!, `name: t${i + k}\nsource:\n  type: generate\n  config: { rate: 1 }\nsink:\n  type: drop\n`)),
      );
    }
    const createMs = performance.now() - createdAt;
    // Every task running: the leader's status of the last pipeline, then a few seconds for every node to settle.
    while ((await task(nodes[0]!, `t${TASKS - 1}`))?.state !== 'running') await sleep(200);
    await sleep(3000);
    const scrape = () => Promise.all(nodes.map(async (n) => (await get<string>(n, '/metrics')) ?? ''));
    const sample = Array.from({ length: Math.min(TASKS, 50) }, (_, k) => `t${Math.floor((k * TASKS) / Math.min(TASKS, 50))}`);
    const sampleEpochs = () => Promise.all(sample.map(async (name) => (await task(nodes[0]!, name))?.epoch ?? 0));
    const epochsBefore = await sampleEpochs();
    const before = await scrape();
    const cpuBefore = await Promise.all(nodes.map((n) => ticks(n.child.pid!)));
    const t0 = performance.now();
    await sleep(DURATION_MS);
    const elapsedS = (performance.now() - t0) / 1000;
    const after = await scrape();
    const cpuAfter = await Promise.all(nodes.map((n) => ticks(n.child.pid!)));
    const hz = 100;
    const commits = metric(after[0]!, 'wire_raft_commit_index') - metric(before[0]!, 'wire_raft_commit_index');
    const latencies = nodes.map((_, i) => p99(before[i]!, after[i]!, 'wire_task_checkpoint_commit_seconds'));
    const renewals = nodes.map((_, i) => p99(before[i]!, after[i]!, 'wire_task_lease_renewal_seconds'));
    const epochsAfter = await sampleEpochs();
    return {
      figure: 'tasks_1000',
      tasks: TASKS,
      create_s: round(createMs / 1000),
      raft_commits_per_s: round(commits / elapsedS),
      checkpoint_commit_p99_ms: latencies.map((l) => (l === null ? null : round(l))),
      lease_renewal_p99_ms: renewals.map((l) => (l === null ? null : round(l))),
      // A task whose node's lease lapsed is reassigned at a higher epoch: how many of a sample of 50 moved meanwhile.
      reassigned_of_50: epochsAfter.filter((e, k) => e !== epochsBefore[k]).length,
      cpu_percent_per_node: cpuAfter.map((c, i) => round(((c - cpuBefore[i]!) / hz / elapsedS) * 100)),
      note: 'CPU is the whole node: the engine runs of its tasks included, so it bounds what consensus costs',
      target_consensus_cpu_percent: 5,
    };
  } finally {
    await killAll(nodes);
    await rm(dir, { recursive: true, force: true });
  }
}

if (ONLY.has('failover')) {
  const rounds: number[] = [];
  for (let i = 0; i < RUNS; i++) rounds.push(await taskFailover());
  print({ figure: 'task_failover', median_ms: round(median(rounds)), max_ms: round(Math.max(...rounds)), runs_ms: rounds.map(round), target_ms: 3000 });
}
if (ONLY.has('vs_run')) print(await taskVsRun());
if (ONLY.has('tasks')) print(await thousandTasks());
