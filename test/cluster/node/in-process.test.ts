// startNode in one process: a one-node cluster forms, serves writes and reads, and restarts from its data dir;
// three in-process nodes form with bootstrap-expect and forward writes (the multi-process tests cover the CLI).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WireError } from '../../../src/core/errors.js';
import { startNode, type RunningNode } from '../../../src/cluster/node.js';
import type { NodeOptions } from '../../../src/cluster/node-options.js';
import { getPipeline, listNodes } from '../../../src/cluster/queries.js';
import { freePorts } from './processes.js';

const quiet = process.env.NODE_TEST_LOG ? { info: (m: string) => console.log('I', m), warn: (m: string) => console.log('W', m), debug: (m: string) => console.log('D', m) } : { info: () => undefined, warn: () => undefined, debug: () => undefined };
const running: RunningNode[] = [];
const dirs: string[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.close()));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'wire-node-'));
  dirs.push(d);
  return d;
}

function options(nodeId: string, dataDir: string, extra: Partial<NodeOptions> = {}): NodeOptions {
  return {
    nodeId,
    dataDir,
    raftHost: '127.0.0.1',
    raftPort: 0,
    httpAdvertise: `127.0.0.1:1${nodeId.length}`,
    bootstrapExpect: 0,
    join: [],
    joinAttempts: 50,
    joinIntervalMs: 200,
    nonVoter: false,
    snapshotThreshold: 8192,
    shutdownStepdown: true,
    labels: {},
    tickMs: 20,
    log: quiet,
    ...extra,
  };
}

async function start(o: NodeOptions): Promise<RunningNode> {
  const n = await startNode(o);
  running.push(n);
  return n;
}

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const spec = (name: string) => ({ name, source: { type: 'generate', config: { count: 1 } }, sink: { type: 'stdout', config: {} } });
const create = (name: string) => ({ v: 1 as const, type: 'pipeline.create' as const, name, spec: spec(name), desired: 'stopped' as const, at: 1 });

describe('startNode', () => {
  it('forms a one-node cluster that serves writes and reads, and restarts from its data dir with the same state', async () => {
    const dir = await tempDir();
    const n1 = await start(options('n1', dir));
    await until('ready', () => n1.ready().ok);
    const w = await n1.write(create('p1'));
    expect(w.servedBy).toBe('n1');
    expect(await n1.read((s) => getPipeline(s, 'p1').version)).toBe(1);
    const clusterId = n1.status().clusterId;
    expect(await n1.read((s) => listNodes(s).map((n) => n.id))).toEqual(['n1']);
    await n1.close();
    running.splice(running.indexOf(n1), 1);

    const again = await start(options('n1', dir));
    await until('ready again', () => again.ready().ok);
    expect(again.status().clusterId).toBe(clusterId);
    expect(await again.read((s) => getPipeline(s, 'p1').version, { consistent: true })).toBe(1);
  });

  it('refuses a data dir of another node id', async () => {
    const dir = await tempDir();
    const n1 = await start(options('n1', dir));
    await until('ready', () => n1.ready().ok);
    await n1.close();
    running.splice(0);
    await expect(startNode(options('other', dir))).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('rejects an invalid command before proposing, and a rejected one with its error', async () => {
    const n1 = await start(options('n1', await tempDir()));
    await until('ready', () => n1.ready().ok);
    const before = n1.status().commitIndex;
    await expect(n1.write({ ...create('p1'), name: 'Bad Name!' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(n1.status().commitIndex).toBe(before);
    await n1.write(create('p1'));
    await expect(n1.write(create('p1'))).rejects.toBeInstanceOf(WireError);
  });

  it('forms a 3-node cluster with bootstrap-expect; a follower forwards writes (or names the leader with redirect), transfers leadership and serves consistent reads', async () => {
    const ports = await freePorts(3);
    const raft = ports.map((p) => `127.0.0.1:${p}`);
    const nodes = await Promise.all(
      ['n1', 'n2', 'n3'].map(async (id, i) => start(options(id, await tempDir(), { raftPort: ports[i]!, bootstrapExpect: 3, join: raft }))),
    );
    await until('all ready', () => nodes.every((n) => n.ready().ok));
    const ids = new Set(nodes.map((n) => n.status().clusterId));
    expect(ids.size).toBe(1);
    const follower = nodes.find((n) => n.status().role === 'follower')!;
    const w = await follower.write(create('p1'));
    expect(w.servedBy).toBe(follower.status().leaderId);
    expect(await follower.read((s) => getPipeline(s, 'p1').version)).toBe(1);
    await until('applied everywhere', () => nodes.every((n) => n.status().appliedIndex >= w.index));
    for (const n of nodes) expect(await n.read((s) => getPipeline(s, 'p1').version)).toBe(1);
    await until('every node registered', () => nodes.every((n) => n.status().members.every((m) => m.httpAddress !== '')));
    expect(follower.status().members.map((m) => m.id).sort()).toEqual(['n1', 'n2', 'n3']);
    // The leader's rules answer a forwarded command: its WireError comes back with its code.
    await expect(follower.write(create('p1'))).rejects.toMatchObject({ code: 'CONFLICT' });

    // ?redirect: the follower names the leader's HTTP address instead of forwarding, and proposes nothing.
    const leaderId = follower.status().leaderId!;
    const before = follower.status().commitIndex;
    await expect(follower.write(create('p2'), { redirect: true })).rejects.toMatchObject({
      code: 'NOT_LEADER',
      details: { leaderId, leaderHttp: `127.0.0.1:1${leaderId.length}` },
    });
    expect(follower.status().commitIndex).toBe(before);

    // A transfer asked of a follower is done by the leader; a consistent read on a follower sees every write.
    expect(await follower.transferLeader(follower.id)).toBe(follower.id);
    await until('the follower leads', () => follower.status().role === 'leader');
    const other = nodes.find((n) => n.status().role === 'follower')!;
    await follower.write(create('p3'));
    expect(await other.read((s) => s.pipeline('p3')?.version, { consistent: true })).toBe(1);
    await expect(other.removeNode('nobody')).rejects.toMatchObject({ code: 'NOT_FOUND' });

    // A follower forwards a write whatever its own state says: it may not have applied yet what the leader has
    // just committed (it used to answer NOT_FOUND for a pipeline created a moment before on the leader).
    const leader = nodes.find((n) => n.status().role === 'leader')!;
    const others = nodes.filter((n) => n !== leader);
    for (let i = 0; i < 6; i++) {
      await leader.write(create(`q${i}`));
      const target = others[i % 2]!;
      await target.write({ v: 1, type: 'pipeline.replace', name: `q${i}`, spec: spec(`q${i}`), at: 2 });
      expect(await target.read((s) => getPipeline(s, `q${i}`).version)).toBe(2);
    }
  });
});
