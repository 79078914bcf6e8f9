// The cost of transport security, for `npm run bench:cluster`: the same closed-loop API writes against three
// `wire node` processes in three set-ups — `plain`, `node-mtls` (mutual TLS on the node port: Raft and the
// forwarding RPC; the API plain) and `tls` (that, and HTTPS with client certificates on the API) — and Raft's
// transport alone, in-process, plain against mutual TLS. Rounds alternate the set-ups so a noisy machine hurts
// each alike; the best round of each is printed with its ratio to plain. Auth (issue 12 §2) adds a header per
// request: `authHeaders` is where a bearer token goes once the API requires one.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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
  /** Headers every API request carries (a bearer token once the API requires one). */
  readonly authHeaders?: (dataDir: string) => Promise<Record<string, string>>;
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
      const args = [BIN, 'node', '--node-id', id, '--data-dir', dataDir, '--http-addr', `127.0.0.1:${ports[2 * i]}`, '--raft-addr', raft[i]!, '--bootstrap-expect', '3', '--join', raft.join(','), '--log-level', 'error', ...nodeTls, ...httpTls];
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

/** Closed-loop pipeline replaces through a follower (each forwarded to the leader): ops/s, p50, p99. */
async function apiWrites(mode: SecurityMode, pki: Pki, o: SecurityCostOptions): Promise<{ ops_per_s: number; p50_ms: number; p99_ms: number; failed: Record<string, number> }> {
  const cluster = await SecuredCluster.spawn(mode, pki, o.conc);
  try {
    const headers = { 'content-type': 'application/yaml', ...(o.authHeaders ? await o.authHeaders(cluster.nodes[0]!.dataDir) : {}) };
    const { leader, follower } = await cluster.leaderAndFollower(headers);
    for (let w = 0; w < o.conc; w++) {
      for (;;) {
        const r = await cluster.request(`${leader}/v1/pipelines`, { method: 'POST', body: pipelineText(`p${w}`, 1), headers }, 5000);
        if (r.status === 201) break;
        await sleep(10);
      }
    }
    while ((await cluster.request(`${follower}/v1/pipelines/p${o.conc - 1}`, { method: 'GET', headers }, 1000)).status !== 200) await sleep(10);
    const latencies: number[] = [];
    const failed: Record<string, number> = {};
    const startedAt = performance.now();
    const deadline = startedAt + o.durationMs;
    await Promise.all(
      Array.from({ length: o.conc }, async (_, w) => {
        for (let i = 2; performance.now() < deadline; i++) {
          const t0 = performance.now();
          const r = await cluster.request(`${follower}/v1/pipelines/p${w}`, { method: 'PUT', body: pipelineText(`p${w}`, i), headers }, 10_000);
          if (r.status === 200) latencies.push(performance.now() - t0);
          else {
            const code = r.status === 0 ? 'no answer' : `${r.status} ${/"code":"(\w+)"/.exec(r.text)?.[1] ?? ''}`.trim();
            failed[code] = (failed[code] ?? 0) + 1;
          }
        }
      }),
    );
    const elapsed = performance.now() - startedAt;
    const sorted = latencies.sort((a, b) => a - b);
    return { ops_per_s: round((latencies.length / elapsed) * 1000), p50_ms: round(percentile(sorted, 0.5)), p99_ms: round(percentile(sorted, 0.99)), failed };
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

/** The rows to print: the best round of each set-up, with its ratio to plain. */
export async function securityCost(o: SecurityCostOptions): Promise<Record<string, unknown>[]> {
  const pki = await makePki();
  const best = new Map<SecurityMode, Awaited<ReturnType<typeof apiWrites>>>();
  for (let r = 0; r < o.rounds; r++) {
    for (const mode of MODES) {
      const result = await apiWrites(mode, pki, o);
      if ((best.get(mode)?.ops_per_s ?? -1) < result.ops_per_s) best.set(mode, result);
    }
  }
  const plain = best.get('plain')!.ops_per_s;
  const rows: Record<string, unknown>[] = MODES.map((mode) => ({
    figure: 'security',
    what: 'api-writes',
    mode,
    conc: o.conc,
    auth: o.authHeaders !== undefined,
    ...best.get(mode)!,
    vs_plain: ratio(best.get(mode)!.ops_per_s, plain),
    target_vs_plain: 0.85,
  }));
  const plainRuns: Awaited<ReturnType<typeof raftTransport>>[] = [];
  const mtlsRuns: Awaited<ReturnType<typeof raftTransport>>[] = [];
  for (let r = 0; r < o.rounds; r++) {
    plainRuns.push(await raftTransport(false, pki, o.durationMs));
    mtlsRuns.push(await raftTransport(true, pki, o.durationMs));
  }
  const bestRate = (runs: typeof plainRuns) => Math.max(...runs.map((x) => x.msgsPerS));
  const leastCpu = (runs: typeof plainRuns) => Math.min(...runs.map((x) => x.cpuUsPerMsg));
  rows.push({
    figure: 'security',
    what: 'raft-transport',
    msg_bytes: 1024,
    plain_msgs_per_s: bestRate(plainRuns),
    mtls_msgs_per_s: bestRate(mtlsRuns),
    vs_plain: ratio(bestRate(mtlsRuns), bestRate(plainRuns)),
    plain_cpu_us_per_msg: leastCpu(plainRuns),
    mtls_cpu_us_per_msg: leastCpu(mtlsRuns),
    target_vs_plain: 0.85,
  });
  return rows;
}
