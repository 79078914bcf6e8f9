// The cost of security, for `npm run bench:cluster`: the same closed-loop API writes against three `wire node`
// processes in three set-ups — `plain` (HTTP, plaintext node port), `node-mtls` (mutual TLS on the node port: Raft
// and the forwarding RPC; the API plain) and `tls` (that, and HTTPS with client certificates on the API) — every
// request carrying the first node's admin token (auth cannot be switched off, so plain pays it too); the cost of
// auth alone (`/healthz` read with `--health-access open`, no token looked at, beside `token`, the bearer token
// checked on every call, on two nodes of the plain cluster); and Raft's transport alone, in-process, plain against
// mutual TLS. Each round runs the set-ups one after the other, so a noisy machine hurts each alike; a ratio is
// taken within each round (pair by pair) and the median of the rounds' ratios is printed, beside each set-up's
// best round.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, fetch } from 'undici';
import { TcpTransport } from '../../src/raft/transport/tcp.js';
import { createCa, issueLeaf, loadCa } from '../../src/security/certificates.js';
import { freePort } from './free-port.js';

const BIN = join(resolve(fileURLToPath(new URL('../..', import.meta.url))), 'bin', 'wire.js');

export type SecurityMode = 'plain' | 'node-mtls' | 'tls';
const MODES: readonly SecurityMode[] = ['plain', 'node-mtls', 'tls'];

export interface SecurityCostOptions {
  readonly durationMs: number;
  readonly conc: number;
  readonly rounds: number;
}

interface Pki {
  readonly ca: string;
  node(id: string): Promise<{ cert: string; key: string }>;
  readonly client: { cert: string; key: string };
}

async function makePki(): Promise<Pki> {
  const caPair = await createCa('bench CA', 1);
  const ca = await loadCa(caPair.certPem, caPair.keyPem);
  const leaf = async (kind: 'node' | 'client', name: string) => {
    const p = await issueLeaf(ca, { kind, name, dns: ['localhost'], ips: ['127.0.0.1'], days: 1 });
    return { cert: p.certPem, key: p.keyPem };
  };
  return { ca: caPair.certPem, node: (id) => leaf('node', id), client: await leaf('client', 'bench') };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const round = (x: number) => Math.round(x * 10) / 10;
const ratio = (x: number, of: number) => Math.round((x / of) * 100) / 100;
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
const pipelineText = (name: string, count: number) => `name: ${name}\nsource:\n  type: generate\n  config:\n    count: ${count}\nsink:\n  type: stdout\n`;

class SecuredCluster {
  private constructor(
    readonly dir: string,
    readonly nodes: { id: string; url: string; dataDir: string; child: ChildProcess }[],
    readonly agent: Agent,
  ) {}

  static async spawn(mode: SecurityMode, pki: Pki, conc: number): Promise<SecuredCluster> {
    const dir = await mkdtemp(join(os.tmpdir(), `wire-bench-${mode}-`));
    const file = async (name: string, text: string) => {
      const path = join(dir, name);
      await writeFile(path, text, { mode: 0o600 });
      return path;
    };
    const ca = await file('ca.crt', pki.ca);
    const ports = await Promise.all(Array.from({ length: 6 }, freePort));
    const raft = [0, 1, 2].map((i) => `127.0.0.1:${ports[2 * i + 1]}`);
    const nodes = [];
    for (let i = 0; i < 3; i++) {
      const id = `n${i + 1}`;
      const pem = await pki.node(id);
      const cert = await file(`${id}.crt`, pem.cert);
      const key = await file(`${id}.key`, pem.key);
      const nodeTls = mode === 'plain' ? [] : ['--node-cert', cert, '--node-key', key, '--node-ca', ca];
      const httpTls = mode === 'tls' ? ['--http-cert', cert, '--http-key', key, '--http-ca', ca, '--http-verify-client'] : [];
      const dataDir = join(dir, id);
      // n2 answers its health routes to anyone, n3 only with a token: the auth row compares the two.
      const health = ['--health-access', i === 1 ? 'open' : 'token'];
      const args = [BIN, 'node', '--node-id', id, '--data-dir', dataDir, '--http-addr', `127.0.0.1:${ports[2 * i]}`, '--raft-addr', raft[i]!, '--bootstrap-expect', '3', '--join', raft.join(','), '--log-level', 'error', ...health, ...nodeTls, ...httpTls];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
      nodes.push({ id, url: `${mode === 'tls' ? 'https' : 'http'}://127.0.0.1:${ports[2 * i]}`, dataDir, child });
    }
    const agent = new Agent({ connections: conc, connect: mode === 'tls' ? { ca: pki.ca, cert: pki.client.cert, key: pki.client.key } : {} });
    return new SecuredCluster(dir, nodes, agent);
  }

  async request(url: string, init: { method: string; body?: string; headers?: Record<string, string> }, timeoutMs: number): Promise<{ status: number; text: string }> {
    try {
      const res = await fetch(url, { ...init, dispatcher: this.agent, signal: AbortSignal.timeout(timeoutMs) });
      return { status: res.status, text: await res.text() };
    } catch {
      return { status: 0, text: '' };
    }
  }

  /** The bearer header of n1's admin token, once its first start has written it. */
  async auth(): Promise<Record<string, string>> {
    for (;;) {
      try {
        return { authorization: `Bearer ${(await readFile(join(this.nodes[0]!.dataDir, 'admin.token'), 'utf8')).trim()}` };
      } catch {
        await sleep(20);
      }
    }
  }

  async leaderAndFollower(headers: Record<string, string>): Promise<{ leader: string; follower: string }> {
    for (;;) {
      for (const node of this.nodes) {
        const r = await this.request(`${node.url}/v1/cluster`, { method: 'GET', headers }, 1000);
        const leaderId = r.status === 200 ? (JSON.parse(r.text) as { leaderId: string | null }).leaderId : null;
        const leader = this.nodes.find((n) => n.id === leaderId);
        if (leader) return { leader: leader.url, follower: this.nodes.find((n) => n !== leader)!.url };
      }
      await sleep(50);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
    await Promise.all(
      this.nodes.map((n) => new Promise((done) => {
        if (n.child.exitCode !== null || n.child.signalCode !== null) return done(undefined);
        n.child.once('close', done);
        n.child.kill('SIGKILL');
      })),
    );
    await rm(this.dir, { recursive: true, force: true });
  }
}

type Load = { ops_per_s: number; p50_ms: number; p99_ms: number; cpu_ms_per_op: number; failed: Record<string, number> };

/** CPU time (ms) the three nodes and this process have used: a loaded machine slows each op more than its CPU. */
async function cpuMs(cluster: SecuredCluster): Promise<number> {
  const own = process.cpuUsage();
  let ticks = 0;
  for (const n of cluster.nodes) {
    // /proc/PID/stat: utime and stime are the 14th and 15th fields, after the parenthesised command name.
    const fields = (await readFile(`/proc/${n.child.pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * 10 + (own.user + own.system) / 1000;
}

/** `conc` callers, each sending its next request when the last is answered, for `durationMs`. */
async function closedLoop(cluster: SecuredCluster, conc: number, durationMs: number, call: (w: number, i: number) => { url: string; method: string; body?: string; headers: Record<string, string>; ok: number }): Promise<Load> {
  const latencies: number[] = [];
  const failed: Record<string, number> = {};
  // What the cluster burns doing nothing (heartbeats, timers) is taken out of the CPU per op.
  const idleFrom = await cpuMs(cluster);
  const idleAt = performance.now();
  await sleep(1000);
  const idlePerMs = ((await cpuMs(cluster)) - idleFrom) / (performance.now() - idleAt);
  const cpuBefore = await cpuMs(cluster);
  const startedAt = performance.now();
  const deadline = startedAt + durationMs;
  await Promise.all(
    Array.from({ length: conc }, async (_, w) => {
      for (let i = 2; performance.now() < deadline; i++) {
        const { url, ok, ...init } = call(w, i);
        const t0 = performance.now();
        const r = await cluster.request(url, init, 10_000);
        if (r.status === ok) latencies.push(performance.now() - t0);
        else {
          const code = r.status === 0 ? 'no answer' : `${r.status} ${/"code":"(\w+)"/.exec(r.text)?.[1] ?? ''}`.trim();
          failed[code] = (failed[code] ?? 0) + 1;
        }
      }
    }),
  );
  const elapsed = performance.now() - startedAt;
  const cpu = (await cpuMs(cluster)) - cpuBefore - idlePerMs * elapsed;
  const sorted = latencies.sort((a, b) => a - b);
  const ops = Math.max(1, latencies.length);
  return { ops_per_s: round((latencies.length / elapsed) * 1000), p50_ms: round(percentile(sorted, 0.5)), p99_ms: round(percentile(sorted, 0.99)), cpu_ms_per_op: Math.round((cpu / ops) * 1000) / 1000, failed };
}

interface Round {
  readonly writes: Load;
  /** Plain set-up only: `/healthz` without auth (n2) and with the token checked (n3). */
  readonly health?: { readonly open: Load; readonly token: Load };
}

/** Closed-loop pipeline replaces through a follower (each forwarded to the leader), every one with the token. */
async function apiRound(mode: SecurityMode, pki: Pki, o: SecurityCostOptions): Promise<Round> {
  const cluster = await SecuredCluster.spawn(mode, pki, o.conc);
  try {
    const headers = { 'content-type': 'application/yaml', ...(await cluster.auth()) };
    const { leader, follower } = await cluster.leaderAndFollower(headers);
    for (let w = 0; w < o.conc; w++) {
      for (;;) {
        // Stopped: each replace is the write alone, with no task restarted by it to share the CPU.
        const r = await cluster.request(`${leader}/v1/pipelines?desired=stopped`, { method: 'POST', body: pipelineText(`p${w}`, 1), headers }, 5000);
        if (r.status === 201) break;
        await sleep(10);
      }
    }
    while ((await cluster.request(`${follower}/v1/pipelines/p${o.conc - 1}`, { method: 'GET', headers }, 1000)).status !== 200) await sleep(10);
    const writes = await closedLoop(cluster, o.conc, o.durationMs, (w, i) => ({ url: `${follower}/v1/pipelines/p${w}?reset=true`, method: 'PUT', body: pipelineText(`p${w}`, i), headers, ok: 200 }));
    if (mode !== 'plain') return { writes };
    const [n2, n3] = [cluster.nodes[1]!.url, cluster.nodes[2]!.url];
    const { authorization } = await cluster.auth();
    const half = o.durationMs / 2;
    const open = await closedLoop(cluster, o.conc, half, () => ({ url: `${n2}/healthz`, method: 'GET', headers: {}, ok: 200 }));
    const token = await closedLoop(cluster, o.conc, half, () => ({ url: `${n3}/healthz`, method: 'GET', headers: { authorization: authorization! }, ok: 200 }));
    return { writes, health: { open, token } };
  } finally {
    await cluster.close();
  }
}

/** Raft's transport alone: 1 KiB messages from one node to another, at most `window` unanswered, for `durationMs`. */
async function raftTransport(secure: boolean, pki: Pki, durationMs: number): Promise<{ msgsPerS: number; cpuUsPerMsg: number }> {
  const tls = async (id: string) => {
    const pem = await pki.node(id);
    const common = { ca: pki.ca, cert: pem.cert, key: pem.key, minVersion: 'TLSv1.3' as const };
    return { server: { ...common }, client: { ...common, checkServerIdentity: () => undefined } };
  };
  const a = await TcpTransport.listen<{ n: number; payload: Buffer }>({ nodeId: 'a', clusterId: 'bench', ...(secure ? { tls: await tls('a') } : {}) });
  const b = await TcpTransport.listen<{ n: number; payload: Buffer }>({ nodeId: 'b', clusterId: 'bench', ...(secure ? { tls: await tls('b') } : {}) });
  try {
    const payload = Buffer.alloc(1024, 7);
    const window = 512;
    let received = 0;
    let sent = 0;
    let wake: (() => void) | undefined;
    b.onMessage(() => {
      received++;
      wake?.();
    });
    // The connection (and its handshake) is made before the clock starts.
    a.send('b', b.address, { n: sent++, payload });
    while (received < 1) await sleep(5);
    const from = received;
    const cpu = process.cpuUsage();
    const startedAt = performance.now();
    while (performance.now() - startedAt < durationMs) {
      while (sent - received < window) a.send('b', b.address, { n: sent++, payload });
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 5);
      });
    }
    const used = process.cpuUsage(cpu);
    const messages = received - from;
    // CPU per message (both ends run here) says what TLS costs even when a loaded machine starves the process.
    return { msgsPerS: round((messages / (performance.now() - startedAt)) * 1000), cpuUsPerMsg: Math.round(((used.user + used.system) / messages) * 100) / 100 };
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

/** The rows to print: each set-up's best round, and the median over rounds of its ratio to plain in that round. */
export async function securityCost(o: SecurityCostOptions): Promise<Record<string, unknown>[]> {
  const pki = await makePki();
  const rounds: Record<SecurityMode, Round>[] = [];
  for (let r = 0; r < o.rounds; r++) {
    const one: Partial<Record<SecurityMode, Round>> = {};
    for (const mode of MODES) one[mode] = await apiRound(mode, pki, o);
    rounds.push(one as Record<SecurityMode, Round>);
  }
  const rows: Record<string, unknown>[] = MODES.map((mode) => {
    const best = rounds.map((r) => r[mode].writes).reduce((a, b) => (b.ops_per_s > a.ops_per_s ? b : a));
    return {
      figure: 'security',
      what: 'api-writes',
      mode,
      conc: o.conc,
      auth: 'bearer token on every call',
      client_certs: mode === 'tls',
      ...best,
      vs_plain: median(rounds.map((r) => ratio(r[mode].writes.ops_per_s, r.plain.writes.ops_per_s))),
      vs_plain_rounds: rounds.map((r) => ratio(r[mode].writes.ops_per_s, r.plain.writes.ops_per_s)),
      // Plain's CPU per write over this set-up's, per round: what ops/s would be on a machine this bench had alone.
      cpu_vs_plain: median(rounds.map((r) => ratio(r.plain.writes.cpu_ms_per_op, r[mode].writes.cpu_ms_per_op))),
      target_vs_plain: 0.85,
    };
  });
  const health = rounds.map((r) => r.plain.health!);
  rows.push({
    figure: 'security',
    what: 'api-auth',
    route: 'GET /healthz',
    conc: o.conc,
    open_ops_per_s: Math.max(...health.map((h) => h.open.ops_per_s)),
    token_ops_per_s: Math.max(...health.map((h) => h.token.ops_per_s)),
    vs_open: median(health.map((h) => ratio(h.token.ops_per_s, h.open.ops_per_s))),
    vs_open_rounds: health.map((h) => ratio(h.token.ops_per_s, h.open.ops_per_s)),
    open_cpu_ms_per_op: Math.min(...health.map((h) => h.open.cpu_ms_per_op)),
    token_cpu_ms_per_op: Math.min(...health.map((h) => h.token.cpu_ms_per_op)),
    cpu_vs_open: median(health.map((h) => ratio(h.open.cpu_ms_per_op, h.token.cpu_ms_per_op))),
  });
  const raftRatios: number[] = [];
  const plainRuns: Awaited<ReturnType<typeof raftTransport>>[] = [];
  const mtlsRuns: Awaited<ReturnType<typeof raftTransport>>[] = [];
  for (let r = 0; r < o.rounds; r++) {
    plainRuns.push(await raftTransport(false, pki, o.durationMs));
    mtlsRuns.push(await raftTransport(true, pki, o.durationMs));
    raftRatios.push(ratio(mtlsRuns[r]!.msgsPerS, plainRuns[r]!.msgsPerS));
  }
  const bestRate = (runs: typeof plainRuns) => Math.max(...runs.map((x) => x.msgsPerS));
  const leastCpu = (runs: typeof plainRuns) => Math.min(...runs.map((x) => x.cpuUsPerMsg));
  rows.push({
    figure: 'security',
    what: 'raft-transport',
    msg_bytes: 1024,
    plain_msgs_per_s: bestRate(plainRuns),
    mtls_msgs_per_s: bestRate(mtlsRuns),
    vs_plain: median(raftRatios),
    vs_plain_rounds: raftRatios,
    plain_cpu_us_per_msg: leastCpu(plainRuns),
    mtls_cpu_us_per_msg: leastCpu(mtlsRuns),
    target_vs_plain: 0.85,
  });
  return rows;
}
