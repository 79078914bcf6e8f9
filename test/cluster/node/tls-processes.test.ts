// `wire node` processes on TLS, started by the very commands of docs/security.md's walkthrough (ports replaced by
// free ones): both ports refuse plaintext and certificates from another CA, a node with a bad certificate cannot
// join, the CLI reports bad certificates as WireErrors, and SIGHUP rotates every certificate while writes flow.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../../src/raft/transport/frame.js';
import { RPC_PROTOCOL } from '../../../src/cluster/rpc.js';
import { TestPki, serialOf } from '../../security/pki.js';
import { NodeProcesses, freePorts, pipelineYaml, until, type NodeProcess } from './processes.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WIRE = path.join(ROOT, 'bin/wire.js');
const run = promisify(execFile);

/** The shell blocks of docs/security.md that the walkthrough says this test runs, in order. */
async function walkthroughBlocks(): Promise<string[]> {
  const text = await readFile(path.join(ROOT, 'docs/security.md'), 'utf8');
  const blocks: string[] = [];
  const re = /<!-- illustrative:[^>]*tls-processes\.test\.ts runs these very commands -->\n```sh\n([\s\S]*?)```/g;
  for (const m of text.matchAll(re)) blocks.push(m[1]!);
  return blocks;
}

/** `wire …` commands of a shell block: continuation lines joined, a trailing `&` dropped, words split. */
function commands(block: string): string[][] {
  return block
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.trim().replace(/\s*&$/, ''))
    .filter((line) => line !== '')
    .map((line) => line.split(/\s+/));
}

const processes = new NodeProcesses();
const pki = new TestPki();
let dir: string;
let nodes: NodeProcess[] = [];
let clientEnv: Record<string, string>;
let certs: string;

async function wire(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [WIRE, ...args], { cwd: dir, env: { ...process.env, ...env }, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function file(name: string): Promise<Buffer> {
  return readFile(path.join(certs, name));
}

/** An undici agent presenting `cert`/`key`, trusting `ca`. */
function agent(ca: Buffer | string, pem?: { cert: Buffer | string; key: Buffer | string }): Agent {
  return new Agent({ connect: { ca, ...(pem ?? {}) } });
}

/** The admin token of n1's first start, as the walkthrough's WIRE_TOKEN_FILE names it. */
async function auth(): Promise<Record<string, string>> {
  return { authorization: `Bearer ${(await readFile(path.join(dir, clientEnv.WIRE_TOKEN_FILE!), 'utf8')).trim()}` };
}

async function post(node: NodeProcess, dispatcher: Agent, name: string): Promise<number> {
  const res = await fetch(`https://${node.http}/v1/pipelines?desired=stopped`, { method: 'POST', body: pipelineYaml(name), headers: { 'content-type': 'application/yaml', ...(await auth()) }, dispatcher, signal: AbortSignal.timeout(20_000) });
  await res.text();
  return res.status;
}

/** The serial of the certificate a new TLS connection to `address` is shown. */
function servedSerial(address: string, ca: Buffer, pem: { cert: Buffer | string; key: Buffer | string }): Promise<string> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port: Number(port), ca, ...pem, checkServerIdentity: () => undefined });
    socket.once('secureConnect', () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

/** True when the server closes the connection within `ms` after `frames`, false when it stays open. */
function closedByServer(socket: net.Socket, frames: readonly Buffer[], ms = 3000): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(false);
    }, ms);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    for (const f of frames) socket.write(f);
  });
}

beforeAll(async () => {
  dir = await processes.dir();
  certs = path.join(dir, 'certs');
  const [start, client] = await walkthroughBlocks();
  expect(start).toBeDefined();
  expect(client).toBeDefined();
  // The certificates, exactly as the walkthrough's first block makes them (the docs test checks its output).
  const docs = await readFile(path.join(ROOT, 'docs/security.md'), 'utf8');
  const certsBlock = /```sh\n(wire certs init[\s\S]*?)```/.exec(docs)![1]!;
  for (const args of commands(certsBlock).filter((a) => a[0] === 'wire')) expect((await wire(args.slice(1))).code).toBe(0);

  const httpPorts = await freePorts(3);
  const raftPorts = await freePorts(3);
  const ports = (s: string) => s.replace(/\b410([1-3])\b/g, (_m, i: string) => String(httpPorts[Number(i) - 1])).replace(/\b420([1-3])\b/g, (_m, i: string) => String(raftPorts[Number(i) - 1]));
  const starts = commands(ports(start!));
  expect(starts).toHaveLength(3);
  nodes = await Promise.all(
    starts.map((args) => {
      expect(args.slice(0, 2)).toEqual(['wire', 'node']);
      const id = args[args.indexOf('--node-id') + 1]!;
      const raftPort = Number(args[args.indexOf('--raft-addr') + 1]!.split(':')[1]);
      return processes.start(id, args.slice(2), { raftPort, cwd: dir, dataDir: path.join(dir, 'data', id) });
    }),
  );
  const exported = commands(ports(client!)).find((a) => a[0] === 'export')!;
  clientEnv = Object.fromEntries(exported.slice(1).map((kv) => kv.split('=') as [string, string]));
}, 120_000);

afterAll(async () => {
  await processes.stopAll();
  await pki.dispose();
});

describe('wire node on TLS (docs/security.md)', () => {
  it('forms a three-node mutual TLS cluster that `wire cluster nodes` reaches with the client certificate', async () => {
    const answer = await until('three reachable members', async () => {
      const r = await wire(['cluster', 'nodes'], clientEnv);
      // Each founder records its HTTP address once the cluster has formed: wait for all three.
      const complete = r.stdout.split('\n').filter((l) => / yes /.test(l)).length === 3 && nodes.every((n) => r.stdout.includes(n.http));
      return r.code === 0 && complete && r.stdout.includes('leader') ? r.stdout : undefined;
    });
    for (const n of nodes) expect(answer).toContain(`${n.http}  ${n.raft}`);
    expect(clientEnv.WIRE_SERVER).toBe(`https://${nodes[0]!.http}`);
  });

  it('fails plaintext HTTP to the TLS API port cleanly, and serves HTTPS after it', async () => {
    const plain = await fetch(`http://${nodes[0]!.http}/v1/cluster`, { signal: AbortSignal.timeout(10_000) }).then(() => 'answered', (e: Error) => e.message);
    expect(plain).not.toBe('answered');
    const cli = await wire(['cluster', 'status', '--server', `http://${nodes[0]!.http}`]);
    expect(cli.code).toBe(7);
    expect(cli.stderr).toMatch(/^wire: UNAVAILABLE: .*does it serve https:\/\//);
    const good = agent(await file('ca.crt'), { cert: await file('client-admin.crt'), key: await file('client-admin.key') });
    try {
      expect((await fetch(`https://${nodes[0]!.http}/v1/cluster`, { dispatcher: good, headers: await auth() })).status).toBe(200);
      // The original Wire's /nodes names each node's API with the scheme it serves.
      const apiAddr = await until('n2 recorded', async () => {
        const original = (await (await fetch(`https://${nodes[0]!.http}/nodes`, { dispatcher: good, headers: await auth() })).json()) as Record<string, { api_addr: string }>;
        return original['n2']?.api_addr || undefined;
      });
      expect(apiAddr).toBe(`https://${nodes[1]!.http}`);
    } finally {
      await good.close();
    }
  });

  it('refuses a client certificate from another CA on the HTTP port and on the node port', async () => {
    const rogue = await pki.client('admin', 'rogue');
    const ca = await file('ca.crt');
    const bad = agent(ca, rogue);
    try {
      const answer = await fetch(`https://${nodes[1]!.http}/v1/cluster`, { dispatcher: bad, signal: AbortSignal.timeout(10_000) }).then((r) => r.status, (e: Error) => e.message);
      expect(answer).not.toBe(200);
      expect(typeof answer).toBe('string');
    } finally {
      await bad.close();
    }
    const rogueNode = await pki.node('n1', 'rogue');
    const [host, port] = nodes[1]!.raft.split(':');
    const socket = tls.connect({ host, port: Number(port), ca, ...rogueNode, checkServerIdentity: () => undefined });
    socket.on('error', () => undefined);
    expect(await closedByServer(socket, [encodeFrame({ protocol: RPC_PROTOCOL }), encodeFrame({ id: 1, method: 'hello', params: {} })])).toBe(true);
  });

  it('reports a bad certificate in the CLI as a WireError with a code, not a stack', async () => {
    const noCa = await wire(['cluster', 'status'], { ...clientEnv, WIRE_CA: '' });
    expect(noCa.code).toBe(3);
    expect(noCa.stderr).toMatch(/^wire: UNAUTHORIZED: the certificate of https:\/\/.* is not trusted: self-signed certificate in certificate chain \(give --ca/);
    const rogue = await pki.client('admin', 'rogue');
    const roguePaths = { WIRE_CERT: await pki.file('rogue-admin.crt', rogue.cert), WIRE_KEY: await pki.file('rogue-admin.key', rogue.key) };
    const refused = await wire(['cluster', 'status'], { ...clientEnv, ...roguePaths });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/^wire: (UNAVAILABLE|UNAUTHORIZED): /);
    const byName = await wire(['cluster', 'status', '--server', `https://127.0.0.2:${nodes[0]!.http.split(':')[1]}`], clientEnv);
    for (const r of [noCa, refused, byName]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('keeps a node with a certificate from another CA out of the cluster', async () => {
    const rogue = await pki.node('n4', 'rogue');
    // It trusts the cluster CA as well, so only the cluster's check of its certificate keeps it out.
    const trust = await pki.file('trust.crt', `${(await file('ca.crt')).toString()}${(await pki.ca('rogue')).cert}`);
    const n4 = await processes.start('n4', [
      '--join', nodes[0]!.raft, '--join-attempts', '2', '--join-interval', '200ms',
      '--node-cert', await pki.file('n4.crt', rogue.cert), '--node-key', await pki.file('n4.key', rogue.key), '--node-ca', trust,
    ]);
    expect(await n4.exited).not.toBe(0);
    const members = await wire(['cluster', 'nodes', '--json'], clientEnv);
    expect(members.stdout).not.toContain('"n4"');
  });

  it("manages tokens as the walkthrough's client: a viewer token made through n1 reads on n2, cannot write, and is refused on n3 once revoked", async () => {
    const made = await wire(['token', 'create', '--role', 'viewer', '--name', 'walkthrough-viewer'], clientEnv);
    expect(made.code).toBe(0);
    const viewer = made.stdout.trim();
    expect(viewer).toMatch(/^wire_[A-Za-z0-9_-]{43}$/);
    const as = (node: NodeProcess) => ({ ...clientEnv, WIRE_TOKEN_FILE: '', WIRE_TOKEN: viewer, WIRE_SERVER: `https://${node.http}` });
    await until('the viewer token on n2', async () => ((await wire(['pipeline', 'list'], as(nodes[1]!))).code === 0 ? true : undefined));
    const write = await wire(['pipeline', 'create', '-f', path.join(ROOT, 'examples/generate-to-stdout.yaml')], as(nodes[1]!));
    expect(write.code).not.toBe(0);
    expect(write.stderr).toMatch(/^wire: FORBIDDEN: /);
    const list = JSON.parse((await wire(['token', 'list', '--json'], clientEnv)).stdout) as { tokens: { id: string; name: string }[] };
    const id = list.tokens.find((t) => t.name === 'walkthrough-viewer')!.id;
    expect((await wire(['token', 'revoke', id], clientEnv)).code).toBe(0);
    // How soon is test/cluster/auth/tokens.e2e.test.ts's: here, that the walkthrough's commands do it over mTLS.
    await until('n3 to refuse the revoked token', async () => {
      const r = await wire(['pipeline', 'list'], as(nodes[2]!));
      return r.code !== 0 && /UNAUTHORIZED: .*revoked/.test(r.stderr) ? true : undefined;
    });
  });

  it('rotates every certificate on SIGHUP while a client keeps writing: no write fails, new connections get the new ones', async () => {
    const ca = await file('ca.crt');
    const admin = { cert: await file('client-admin.crt'), key: await file('client-admin.key') };
    // A node certificate to look at the node port with (it refuses any other).
    expect((await wire(['certs', 'issue', '--node', 'probe', '--dir', 'certs'])).code).toBe(0);
    const probePem = { cert: await file('node-probe.crt'), key: await file('node-probe.key') };
    const oldSerial = serialOf(await file('node-n1.crt'));
    const oldHttp = await servedSerial(nodes[0]!.http, ca, admin);
    const oldRaft = await servedSerial(nodes[0]!.raft, ca, probePem);

    const keptAlive = agent(ca, admin);
    let ok = 0;
    const failures: string[] = [];
    let stop = false;
    const writer = async (w: number) => {
      for (let i = 0; !stop; i++) {
        // One writer reuses its connections; the other opens a new one for every request.
        const dispatcher = w === 0 ? keptAlive : agent(ca, admin);
        try {
          const status = await post(nodes[i % 3]!, dispatcher, `rotate-${w}-${i}`);
          if (status === 201) ok++;
          else failures.push(`HTTP ${status}`);
        } catch (error) {
          failures.push((error as Error).message);
        } finally {
          if (dispatcher !== keptAlive) await dispatcher.close();
        }
      }
    };
    const writers = [writer(0), writer(1)];
    let newSerial = '';
    try {
      await until('writes before the rotation', async () => ok >= 10);
      for (const n of nodes) {
        expect((await wire(['certs', 'issue', '--node', n.id, '--dir', 'certs', '--force'])).code).toBe(0);
        n.child.kill('SIGHUP');
      }
      newSerial = serialOf(await file('node-n1.crt'));
      await until('the new certificate on the HTTP port', async () => (await servedSerial(nodes[0]!.http, ca, admin)) === newSerial);
      await until('the new certificate on the node port', async () => (await servedSerial(nodes[0]!.raft, ca, probePem)) === newSerial);
      const atRotation = ok;
      await until('writes after the rotation', async () => ok >= atRotation + 20);
    } finally {
      stop = true;
      await Promise.all(writers);
      await keptAlive.close();
    }
    expect(failures).toEqual([]);
    expect([oldHttp, oldRaft]).toEqual([oldSerial, oldSerial]);
    expect(newSerial).not.toBe(oldSerial);
    for (const n of nodes) expect(n.stderr()).toContain('SIGHUP: reloaded the certificates of the node port and the HTTP API');
  }, 120_000);
});
