// A three-node cluster on mutual TLS (startNode in one process, real sockets on 127.0.0.1): the node port refuses
// whoever is not a node of the cluster CA, a node cannot join or speak Raft under another node's id, and
// certificates rotate with writes flowing (the multi-process tests in tls-processes.test.ts cover the CLI).
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WireError } from '../../../src/core/errors.js';
import { startNode, type RunningNode } from '../../../src/cluster/node.js';
import type { NodeOptions, NodeTls } from '../../../src/cluster/node-options.js';
import { NodePort } from '../../../src/cluster/node-port.js';
import { RpcClient, RPC_PROTOCOL } from '../../../src/cluster/rpc.js';
import { encodeFrame } from '../../../src/raft/transport/frame.js';
import { RAFT_PROTOCOL } from '../../../src/raft/transport/tcp.js';
import { readNodeTls } from '../../../src/security/tls-config.js';
import { TestPki, serialOf } from '../../security/pki.js';
import { freePorts } from './processes.js';

const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };
const pki = new TestPki();
const nodes: RunningNode[] = [];
const dirs: string[] = [];
let raft: string[] = [];
let clusterCa: string;

/** The node port options for node `id` with a certificate from `certCa`, trusting the CAs in `trust`. */
async function nodeTls(id: string, certCa: string, trust: readonly string[] = ['cluster']): Promise<NodeTls> {
  const pem = await pki.node(id, certCa);
  const ca = (await Promise.all(trust.map(async (name) => (await pki.ca(name)).cert))).join('');
  const files = {
    cert: await pki.file(`${id}-${certCa}-${serialOf(pem.cert)}.crt`, pem.cert),
    key: await pki.file(`${id}-${certCa}-${serialOf(pem.cert)}.key`, pem.key),
    ca: await pki.file(`trust-${trust.join('-')}.crt`, ca),
  };
  return (await readNodeTls({ minVersion: 'TLSv1.3', node: files }, id))!;
}

async function options(id: string, extra: Partial<NodeOptions>): Promise<NodeOptions> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'wire-tls-node-'));
  dirs.push(dataDir);
  return {
    nodeId: id,
    dataDir,
    raftHost: '127.0.0.1',
    raftPort: 0,
    httpAdvertise: '127.0.0.1:1',
    bootstrapExpect: 0,
    join: [],
    joinAttempts: 50,
    joinIntervalMs: 200,
    nonVoter: false,
    snapshotThreshold: 8192,
    shutdownStepdown: false,
    labels: {},
    tickMs: 20,
    log: quiet,
    ...extra,
  };
}

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const leader = (): RunningNode => nodes.find((n) => n.status().role === 'leader') ?? nodes[0]!;
const members = (): string[] => leader().status().members.map((m) => m.id).sort();
const create = (name: string) => ({ v: 1 as const, type: 'pipeline.create' as const, name, spec: { name, source: { type: 'generate', config: { count: 1 } }, sink: { type: 'stdout', config: {} } }, desired: 'stopped' as const, at: 1 });

/** Opens a TLS connection to `address` presenting `pem` and says what happened: the server's certificate, or the error. */
function connect(address: string, pem: { cert: string; key: string } | undefined, ca: string): Promise<tls.TLSSocket> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port: Number(port), ca, ...(pem ?? {}), checkServerIdentity: () => undefined });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with true when the server closes `socket` within `ms` after `frames` are written, false if it stays open. */
function closedByServer(socket: net.Socket, frames: readonly Buffer[], ms = 2000): Promise<boolean> {
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
  clusterCa = (await pki.ca('cluster')).cert;
  const ports = await freePorts(3);
  raft = ports.map((p) => `127.0.0.1:${p}`);
  const started = await Promise.all(
    ['n1', 'n2', 'n3'].map(async (id, i) => startNode(await options(id, { raftPort: ports[i]!, bootstrapExpect: 3, join: raft, tls: await nodeTls(id, 'cluster') }))),
  );
  nodes.push(...started);
  await until('a leader on every node', () => nodes.every((n) => n.ready().ok));
}, 60_000);

afterAll(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  await pki.dispose();
});

describe('the node port on mutual TLS', () => {
  it('forms a cluster and serves writes over it', async () => {
    expect(members()).toEqual(['n1', 'n2', 'n3']);
    const w = await nodes[0]!.write(create('over-tls'));
    expect(w.index).toBeGreaterThan(0);
  });

  it('refuses a plaintext connection', async () => {
    const socket = net.connect({ host: '127.0.0.1', port: Number(raft[0]!.split(':')[1]) });
    await new Promise((r) => socket.once('connect', r));
    expect(await closedByServer(socket, [encodeFrame({ protocol: RPC_PROTOCOL }), encodeFrame({ id: 1, method: 'hello', params: {} })])).toBe(true);
  });

  it('refuses a certificate from another CA, even one naming a member', async () => {
    // Made by hand: `wire node` itself refuses to start with a certificate its --node-ca did not issue.
    const rogue = await pki.node('n1', 'rogue');
    const rpc = new RpcClient({ tls: { ...rogue, ca: clusterCa, checkServerIdentity: () => undefined } });
    try {
      const error = await rpc.call(raft[1]!, 'hello', {}, 5000).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(WireError);
      expect((error as WireError).code).toBe('UNAVAILABLE');
    } finally {
      rpc.close();
    }
  });

  it("refuses a certificate from the cluster CA that names no node (an HTTP client's)", async () => {
    const client = await pki.client('admin', 'cluster');
    const socket = await connect(raft[1]!, client, clusterCa).catch(() => undefined);
    // TLS 1.3 finishes the client's handshake before the server has checked it: the server then closes.
    if (socket) expect(await closedByServer(socket, [encodeFrame({ protocol: RPC_PROTOCOL }), encodeFrame({ id: 1, method: 'hello', params: {} })])).toBe(true);
  });

  it('answers a node certificate of the cluster CA (the control for the refusals)', async () => {
    const evil = await nodeTls('evil', 'cluster');
    const rpc = new RpcClient({ tls: evil.client });
    try {
      expect(await rpc.call(raft[1]!, 'hello', {}, 5000)).toMatchObject({ id: 'n2' });
    } finally {
      rpc.close();
    }
  });

  it("refuses a join for another node id than the caller's certificate names", async () => {
    const evil = await nodeTls('evil', 'cluster');
    const rpc = new RpcClient({ tls: evil.client });
    const clusterId = nodes[0]!.status().clusterId;
    try {
      for (const address of raft) {
        const error = await rpc.call(address, 'join', { clusterId, id: 'n9', raftAddress: '127.0.0.1:9', httpAddress: '127.0.0.1:9', voter: true, labels: {} }, 5000).then(() => undefined, (e: unknown) => e);
        expect((error as WireError).code).toBe('FORBIDDEN');
      }
    } finally {
      rpc.close();
    }
    expect(members()).toEqual(['n1', 'n2', 'n3']);
  });

  it('does not believe a node that answers hello under another id than its certificate names', async () => {
    const evil = await nodeTls('evil', 'cluster');
    const port = await NodePort.listen({ host: '127.0.0.1', port: 0, tls: evil.server, onError: () => undefined });
    port.serveRpc(async () => ({ ...nodes[0]!.status(), id: 'n1' }));
    const rpc = new RpcClient({ tls: (await nodeTls('probe', 'cluster')).client });
    try {
      const error = await rpc.call(port.boundAddress, 'hello', {}, 5000).then(() => undefined, (e: unknown) => e);
      expect((error as WireError).code).toBe('FORBIDDEN');
      expect(await rpc.call(port.boundAddress, 'status', {}, 5000)).toMatchObject({ id: 'n1' });
    } finally {
      rpc.close();
      await port.close();
    }
  });

  it("closes a Raft connection whose handshake claims another node than its certificate names, and keeps its own node's", async () => {
    const evil = await pki.node('evil', 'cluster');
    const clusterId = nodes[0]!.status().clusterId;
    const handshake = (id: string) => encodeFrame({ protocol: RAFT_PROTOCOL, id, cluster: clusterId, address: '127.0.0.1:9' });
    expect(await closedByServer(await connect(raft[1]!, evil, clusterCa), [handshake('n1')])).toBe(true);
    expect(await closedByServer(await connect(raft[1]!, evil, clusterCa), [handshake('evil')], 1000)).toBe(false);
  });

  it('does not let a node with a certificate from another CA join', async () => {
    let fatal: Error | undefined;
    // It trusts the cluster CA, so only the cluster's check of its certificate stands in its way.
    const n4 = await startNode(await options('n4', { join: [raft[0]!], joinAttempts: 3, joinIntervalMs: 100, tls: await nodeTls('n4', 'rogue', ['cluster', 'rogue']), onFatal: (e) => (fatal = e) }));
    try {
      await until('n4 to give up joining', () => fatal !== undefined);
      expect(n4.ready().ok).toBe(false);
      expect(members()).toEqual(['n1', 'n2', 'n3']);
    } finally {
      await n4.close();
    }
  });

  it('rotates a node certificate without a restart: new connections get it while writes go on', async () => {
    const before = await connect(raft[0]!, await pki.node('probe', 'cluster'), clusterCa);
    const oldSerial = before.getPeerCertificate().serialNumber;
    before.destroy();
    let writes = 0;
    let failures = 0;
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        await nodes[i % 3]!.write(create(`rotate-${i}`)).then(() => writes++, () => failures++);
      }
    })();
    await until('some writes', () => writes >= 5);
    const fresh = await nodeTls('n1', 'cluster');
    nodes[0]!.reloadTls(fresh);
    const writesAtReload = writes;
    const after = await connect(raft[0]!, await pki.node('probe', 'cluster'), clusterCa);
    const newSerial = after.getPeerCertificate().serialNumber;
    after.destroy();
    await until('writes after the rotation', () => writes >= writesAtReload + 20);
    stop = true;
    await writer;
    expect(newSerial).toBe(serialOf(fresh.server.cert as Buffer));
    expect(newSerial).not.toBe(oldSerial);
    expect(failures).toBe(0);
  }, 60_000);
});
