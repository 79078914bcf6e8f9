// `npm run bench:cluster` (after bench/cluster.ts): the cluster running pipelines. One JSON line per figure (never asserts):
//   task_failover    — kill -9 of the node running a generate → file task: from the kill to the first record the
//                      new node writes to the shared file; median and max of --runs (target < 3 s)
//   task_vs_run      — the same generate → file pipeline with `wire run` and as one cluster task, taking turns for
//                      --runs rounds: the engine's records/s in each, and the median of the rounds' ratios (target ≥ 0.9)
//   tasks_1000       — --tasks pipelines (one task each, generate at 1 record/s → drop) on 3 nodes, checkpointing every
//                      second: Raft commits/s, p99 checkpoint commit latency, CPU of each node over --duration, and
//                      from CPU profiles the part of it that is consensus (target < 5 % of a core)
//   --runs N (5)  --duration S (10)  --tasks N (1000)  --records N (3000000)  --only failover,vs_run,tasks
//   --profile DIR    keeps the tasks figure's node profiles there, and profiles the task's node in task_vs_run
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BIN, auth, isLive, spawnNodes, stopNodes, type BenchNode } from './lib/cluster-nodes.js';
import { mainThreadShare, profileClockUs, type MainThreadShare } from './lib/cluster-profile.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    duration: { type: 'string', default: '10' },
    tasks: { type: 'string', default: '1000' },
    records: { type: 'string', default: '3000000' },
    only: { type: 'string', default: 'failover,vs_run,tasks' },
    profile: { type: 'string' },
  },
});
const RUNS = Number(values.runs);
const DURATION_MS = Number(values.duration) * 1000;
const TASKS = Number(values.tasks);
const RECORDS = Number(values.records);
const ONLY = new Set(values.only.split(','));
const PROFILE_DIR = values.profile;

const print = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ bench: 'cluster', ...o })}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number) => Math.round(x * 10) / 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Three nodes under `dir` that may read and write in it, once each answers /readyz and has its admin token. */
async function spawnCluster(dir: string, profileDir?: string): Promise<BenchNode[]> {
  await mkdir(dir, { recursive: true });
  const { nodes } = await spawnNodes(dir, { args: ['--allow-path', dir], ...(profileDir === undefined ? {} : { profileDir }) });
  for (const n of nodes) {
    while (!(await get(n, '/readyz')) || Object.keys(auth(n)).length === 0) {
      if (!isLive(n)) throw new Error(`node ${n.id} exited before it was ready`);
      await sleep(20);
    }
  }
  return nodes;
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

/** One round: ms from the kill to the new node's first record, and whether the killed node led (an election first). */
async function taskFailover(): Promise<{ ms: number; leader: boolean }> {
  const dir = await mkdtemp(join(os.tmpdir(), 'wire-bench-tasks-'));
  const nodes = await spawnCluster(dir);
  try {
    const file = join(dir, 'out.jsonl');
    await create(nodes[0]!, `name: f\nsource:\n  type: generate\n  config: { rate: 5000 }\nsink:\n  type: file\n  config: { path: ${JSON.stringify(file)} }\n`);
    let t: Task | undefined;
    while (!(t = await task(nodes[0]!, 'f'))?.node || t.state !== 'running') await sleep(20);
    while ((await sizeOf(file)) < 100_000) await sleep(20);
    const victim = nodes.find((n) => n.id === t!.node)!;
    const leader = (await get<{ leaderId: string | null }>(victim, '/v1/cluster'))?.leaderId === victim.id;
    const exited = new Promise((r) => victim.child.once('close', r));
    victim.child.kill('SIGKILL');
    const killedAt = performance.now();
    await exited;
    // The new node truncates the file to the checkpoint's length, then writes: the first growth past the smallest
    // size seen since the kill is its first record (the killed process writes nothing more).
    let low = await sizeOf(file);
    for (;;) {
      const size = await sizeOf(file);
      if (size > low) return { ms: performance.now() - killedAt, leader };
      low = Math.min(low, size);
      if (performance.now() - killedAt > 60_000) throw new Error('task failover: no record written within 60 s of the kill');
      await sleep(2);
    }
  } finally {
    await stopNodes(nodes);
    await rm(dir, { recursive: true, force: true });
  }
}

const generateToFile = (name: string, file: string) => `name: ${name}\nsource:\n  type: generate\n  config: { count: ${RECORDS} }\nsink:\n  type: file\n  config: { path: ${JSON.stringify(file)} }\n`;

/**
 * One `wire run` of the pipeline: its records/s from start to the last record durable and checkpointed, and the
 * process's CPU (user + system, read every 20 ms until it exits; its start-up included).
 */
async function runOnce(dir: string, round: number): Promise<{ rate: number; bytes: number; cpuS: number }> {
  const runFile = join(dir, `run-${round}.yaml`);
  const out = join(dir, `run-${round}.jsonl`);
  await writeFile(runFile, generateToFile('t', out));
  // The JSON summary goes to stderr (stdout is the data's).
  const child = spawn(process.execPath, [BIN, 'run', runFile, '--json', '--data-dir', join(dir, `run-data-${round}`)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  let code: number | null | undefined;
  const exited = new Promise<void>((done) => child.once('close', (c: number | null) => done(void (code = c))));
  let cpuTicks = 0;
  while (code === undefined) {
    cpuTicks = await ticks(child.pid!).then((t) => t.all, () => cpuTicks);
    await Promise.race([sleep(20), exited]);
  }
  if (code !== 0) throw new Error(`wire run exited with ${code}: ${stderr}`);
  const summary = stderr
    .split('\n')
    .filter((l) => l.includes('"summary"'))
    .map((l) => JSON.parse(l) as { records_per_s: number; records_in: number })[0];
  if (summary?.records_in !== RECORDS) throw new Error(`wire run read ${summary?.records_in} records, not ${RECORDS}`);
  const bytes = await sizeOf(out);
  await rm(out);
  return { rate: summary.records_per_s, bytes, cpuS: cpuTicks / 100 };
}

/**
 * The same pipeline as one task on a fresh three-node cluster (nothing else running): its records/s, measured as
 * `wire run`'s (the engine's summary, which the agent reports once the run completed: start to the last record
 * durable and its checkpoint committed, here through Raft).
 */
async function taskOnce(dir: string, round: number, profileDir: string | undefined): Promise<{ rate: number; bytes: number; node: string; cpuS: number; profile?: Record<string, unknown> }> {
  const clusterDir = join(dir, `cluster-${round}`);
  const nodes = await spawnCluster(clusterDir, profileDir);
  const out = join(clusterDir, 'task.jsonl');
  try {
    const from = profileClockUs();
    const cpuBefore = await Promise.all(nodes.map((n) => ticks(n.child.pid!)));
    await create(nodes[0]!, generateToFile('t', out));
    let t: Task | undefined;
    // Seldom: the status call costs the nodes CPU while the task runs, and the rate is the engine's own.
    while ((t = await task(nodes[0]!, 't'))?.state !== 'completed') await sleep(500);
    const to = profileClockUs();
    if (t!.recordsOut !== RECORDS) throw new Error(`the task wrote ${t!.recordsOut} records, not ${RECORDS}: ${JSON.stringify(t)}`);
    const at = nodes.findIndex((n) => n.id === t!.node);
    const runner = nodes[at]!;
    // The task's node from the create to the completion seen (the create's write, and up to one status poll idle).
    const cpuS = ((await ticks(runner.child.pid!)).all - cpuBefore[at]!.all) / 100;
    const result = { rate: t!.rate, bytes: await sizeOf(out), node: runner.id, cpuS };
    if (profileDir === undefined) return result;
    await stopForProfiles(nodes);
    const share = await mainThreadShare(await profileOf(profileDir, runner.child.pid!), from, to);
    return { ...result, profile: { busy_ms: Math.round(share.busyMs), by_part_ms: roundAll(share.byPart), top_files_ms: share.byFile.slice(0, 12).map(([f, ms]) => [f, Math.round(ms)]) } };
  } finally {
    await stopNodes(nodes);
    await rm(clusterDir, { recursive: true, force: true });
  }
}

/** `wire run` and a cluster task take turns, --runs rounds, so both sides of each ratio share the machine's spells. */
async function taskVsRun(profileDir: string | undefined): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(os.tmpdir(), 'wire-bench-tasks-'));
  try {
    const rounds: Array<{ run: number; task: number; ratio: number; sameBytes: boolean; node: string; runCpu: number; taskCpu: number }> = [];
    const profiles: Array<Record<string, unknown>> = [];
    for (let i = 0; i < RUNS; i++) {
      const run = await runOnce(dir, i);
      const t = await taskOnce(dir, i, profileDir);
      if (t.profile) profiles.push(t.profile);
      rounds.push({ run: run.rate, task: t.rate, ratio: t.rate / run.rate, sameBytes: run.bytes === t.bytes, node: t.node, runCpu: run.cpuS, taskCpu: t.cpuS });
    }
    return {
      figure: 'task_vs_run',
      records: RECORDS,
      ratio: Math.round(median(rounds.map((r) => r.ratio)) * 100) / 100,
      ratio_rounds: rounds.map((r) => Math.round(r.ratio * 100) / 100),
      run_records_per_s: rounds.map((r) => Math.round(r.run)),
      task_records_per_s: rounds.map((r) => Math.round(r.task)),
      same_output_bytes: rounds.every((r) => r.sameBytes),
      // What the load of the machine changes least: CPU for the same records (wire run's start-up included).
      run_cpu_s: rounds.map((r) => r.runCpu),
      task_node_cpu_s: rounds.map((r) => r.taskCpu),
      cpu_ratio: Math.round(median(rounds.map((r) => r.runCpu / r.taskCpu)) * 100) / 100,
      measured: "the engine's summary in both: start to the last record durable and checkpointed (records_in / elapsed)",
      target_ratio: 0.9,
      ...(profiles.length > 0 ? { task_node_profiles: profiles } : {}),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const roundAll = (o: Readonly<Record<string, number>>): Record<string, number> => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v)]));

/** The profile a node with `pid` wrote as it exited. */
async function profileOf(profileDir: string, pid: number): Promise<string> {
  const name = (await readdir(profileDir)).find((f) => f.includes(`.${pid}.`) && f.endsWith('.cpuprofile'));
  if (name === undefined) throw new Error(`no CPU profile of node ${pid} in ${profileDir}`);
  return join(profileDir, name);
}

/** CPU ticks (user + system, 1/100 s) of a process, and of its main thread alone (the JavaScript). */
async function ticks(pid: number): Promise<{ all: number; main: number }> {
  const of = async (path: string) => {
    const fields = (await readFile(path, 'utf8')).split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  return { all: await of(`/proc/${pid}/stat`), main: await of(`/proc/${pid}/task/${pid}/stat`) };
}

/**
 * CPU ticks of each thread of a process by the thread's name (the main thread as `main`): V8's helpers (`V8 Default…`:
 * GC marking and compiling), libuv's pool (`libuv-worker`: the WAL's writes and fsyncs), and native threads named
 * after the process (`node`: LMDB's write thread commits the state machine's transactions). A thread that ends
 * between two reads is not counted.
 */
async function threadTicks(pid: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [] as string[])) {
    try {
      const [comm, stat] = await Promise.all([readFile(`/proc/${pid}/task/${tid}/comm`, 'utf8'), readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8')]);
      const fields = stat.split(') ')[1]!.split(' ');
      const name = Number(tid) === pid ? 'main' : comm.trim();
      out.set(name, (out.get(name) ?? 0) + Number(fields[11]) + Number(fields[12]));
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

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

/** What consensus is: Raft and the cluster's state machine, leases, scheduler, agent and checkpoint store. */
const CONSENSUS = (part: string): boolean => part === 'raft' || part === 'cluster' || part.startsWith('cluster/');

/**
 * --tasks pipelines of one task each, generate at 1 record/s → drop (engines that are cheap and idle but checkpoint
 * every second), on three nodes run unbundled under `node --cpu-prof`. Over --duration: Raft's commits, the p99 of
 * a node's checkpoint batch commit, each node's CPU (whole process, and its main thread), and from the profiles
 * how much of the main thread went to consensus (bench/lib/cluster-profile.ts) rather than to the engine runs.
 */
async function thousandTasks(keepProfiles: string | undefined): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(os.tmpdir(), 'wire-bench-tasks-'));
  const profileDir = keepProfiles ?? join(dir, 'profiles');
  const nodes = await spawnCluster(join(dir, 'cluster'), profileDir);
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
    const threadsBefore = await Promise.all(nodes.map((n) => threadTicks(n.child.pid!)));
    const t0 = performance.now();
    const from = profileClockUs();
    await sleep(DURATION_MS);
    const to = profileClockUs();
    const elapsedS = (performance.now() - t0) / 1000;
    const cpuAfter = await Promise.all(nodes.map((n) => ticks(n.child.pid!)));
    const threadsAfter = await Promise.all(nodes.map((n) => threadTicks(n.child.pid!)));
    const after = await scrape();
    const commits = metric(after[0]!, 'wire_raft_commit_index') - metric(before[0]!, 'wire_raft_commit_index');
    const latencies = nodes.map((_, i) => p99(before[i]!, after[i]!, 'wire_task_checkpoint_commit_seconds'));
    const renewals = nodes.map((_, i) => p99(before[i]!, after[i]!, 'wire_task_lease_renewal_seconds'));
    const epochsAfter = await sampleEpochs();
    const leader = (await get<{ leaderId: string | null }>(nodes[0]!, '/v1/cluster'))?.leaderId ?? null;
    const pids = nodes.map((n) => n.child.pid!);
    await stopForProfiles(nodes);
    // A node that wrote no profile (it did not exit by itself: see `exits`) has null figures.
    const shares = await Promise.all(pids.map(async (pid) => mainThreadShare(await profileOf(profileDir, pid), from, to).catch(() => null)));
    // A profile's samples count wall time (on a loaded machine, also while the thread waits for a core): they give
    // each part's share of the main thread, and /proc gives the main thread's CPU.
    const cpu = (pick: (t: { all: number; main: number }) => number) => cpuAfter.map((c, i) => round(((pick(c) - pick(cpuBefore[i]!)) / 100 / elapsedS) * 100));
    const mainCpu = cpu((t) => t.main);
    const shareOf = (s: MainThreadShare, ms: number) => (s.busyMs > 0 ? ms / s.busyMs : 0);
    const consensusMs = (s: MainThreadShare) => Object.entries(s.byPart).reduce((sum, [part, ms]) => sum + (CONSENSUS(part) ? ms : 0), 0);
    // GC has no Wire frame: its share given to each part in proportion to that part's (what allocates most collects most, roughly).
    const wireMs = (s: MainThreadShare) => Object.entries(s.byPart).reduce((sum, [part, ms]) => sum + (part === 'gc' || part === 'node' ? 0 : ms), 0);
    const withGc = (s: MainThreadShare) => consensusMs(s) + (wireMs(s) > 0 ? ((s.byPart['gc'] ?? 0) * consensusMs(s)) / wireMs(s) : 0);
    return {
      figure: 'tasks_1000',
      tasks: TASKS,
      create_s: round(createMs / 1000),
      leader,
      raft_commits_per_s: round(commits / elapsedS),
      checkpoint_commit_p99_ms: latencies.map((l) => (l === null ? null : round(l))),
      lease_renewal_p99_ms: renewals.map((l) => (l === null ? null : round(l))),
      // A task whose node's lease lapsed is reassigned at a higher epoch: how many of a sample of 50 moved meanwhile.
      reassigned_of_50: epochsAfter.filter((e, k) => e !== epochsBefore[k]).length,
      cpu_percent_per_node: cpu((t) => t.all),
      main_thread_cpu_percent_per_node: mainCpu,
      consensus_cpu_percent_per_node: shares.map((s, i) => (s === null ? null : round(shareOf(s, consensusMs(s)) * mainCpu[i]!))),
      consensus_with_gc_cpu_percent_per_node: shares.map((s, i) => (s === null ? null : round(shareOf(s, withGc(s)) * mainCpu[i]!))),
      cpu_percent_by_thread_per_node: threadsAfter.map((t, i) =>
        Object.fromEntries([...t].map(([name, n]) => [name, round(((n - (threadsBefore[i]!.get(name) ?? 0)) / 100 / elapsedS) * 100)]).filter(([, pct]) => (pct as number) > 0)),
      ),
      main_thread_share_percent_by_part: shares.map((s) => (s === null ? null : Object.fromEntries(Object.entries(s.byPart).map(([part, ms]) => [part, round(shareOf(s, ms) * 100)])))),
      top_files_share_percent: shares.map((s) => (s === null ? null : s.byFile.slice(0, 8).map(([file, ms]) => [file, round(shareOf(s, ms) * 100)]))),
      exits: nodes.map((n) => n.child.exitCode ?? n.child.signalCode),
      measured:
        "unbundled nodes under --cpu-prof (the sampling costs CPU too). consensus = the node's main-thread CPU (/proc) × the share of its profile's busy samples " +
        'whose innermost Wire frame is in raft/ or cluster/ (what they call, lmdb, msgpack, JSON, Node internals, counts with them; core/ and observability/ ' +
        'frames count for their caller); gc and node (no Wire frame: timers, sockets) are left out of it; other threads (GC helpers, libuv) are in cpu_percent_per_node only. ' +
        "consensus_with_gc adds the main thread's GC in proportion to consensus's share of the samples that have a Wire frame; cpu_percent_by_thread: " +
        "libuv-worker is mostly the WAL's writes and fsyncs, node (a thread other than main) LMDB's write thread: both consensus, in neither consensus figure",
      target_consensus_cpu_percent: 5,
    };
  } finally {
    await stopNodes(nodes);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Stops profiled nodes so that each writes its profile: a first SIGTERM starts a drain, the second exits at once
 * (`process.exit`, which still writes it).
 */
async function stopForProfiles(nodes: readonly BenchNode[]): Promise<void> {
  const exited = nodes.map((n) => new Promise((done) => (n.child.exitCode !== null || n.child.signalCode !== null ? done(undefined) : n.child.once('close', done))));
  for (const n of nodes) n.child.kill('SIGTERM');
  await sleep(200);
  for (const n of nodes) n.child.kill('SIGTERM');
  await Promise.all(exited);
}

if (ONLY.has('failover')) {
  const rounds: Array<{ ms: number; leader: boolean }> = [];
  for (let i = 0; i < RUNS; i++) rounds.push(await taskFailover());
  const ms = rounds.map((r) => r.ms);
  print({ figure: 'task_failover', median_ms: round(median(ms)), max_ms: round(Math.max(...ms)), runs_ms: ms.map(round), killed_the_leader: rounds.map((r) => r.leader), target_ms: 3000 });
}
if (ONLY.has('vs_run')) print(await taskVsRun(PROFILE_DIR));
if (ONLY.has('tasks')) print(await thousandTasks(PROFILE_DIR));
