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
import type { ClusterStateMachine } from '../../../src/cluster/fsm.js';
import type { RaftNode } from '../../../src/raft/node.js';
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

/** What a test reaches inside a node: its state machine, Raft, Raft's transport and its RPC server. */
interface Inside {
  fsm: ClusterStateMachine;
  raft: RaftNode;
  transport: { send(to: string, address: string, message: unknown): void };
  serve(method: string, params: unknown, peer?: unknown): Promise<unknown>;
}
const inside = (n: RunningNode): Inside => n as unknown as Inside;

async function threeNodes(tickMs: number): Promise<RunningNode[]> {
  const ports = await freePorts(3);
  const raft = ports.map((p) => `127.0.0.1:${p}`);
  const nodes = await Promise.all(['n1', 'n2', 'n3'].map(async (id, i) => start(options(id, await tempDir(), { raftPort: ports[i]!, bootstrapExpect: 3, join: raft, tickMs }))));
  await until('all ready', () => nodes.every((n) => n.ready().ok && n.status().members.every((m) => m.httpAddress !== '')));
  return nodes;
}

// A new leader judges a forwarded write on a state that holds everything committed: the previous leader's commit
// index hidden from the next leader, and that leader's applies held back.
describe('a new leader and the state it judges writes on', () => {
  it("accepts a replace forwarded by a follower for a pipeline its predecessor committed, before it has applied that create", async () => {
    const nodes = await threeNodes(50);
    const old = nodes.find((n) => n.status().role === 'leader')!;
    const [next, follower] = nodes.filter((n) => n !== old) as [RunningNode, RunningNode];

    // The old leader's messages to the next one carry no commit index past what it had: the next leader will hold the
    // create in its log without knowing it committed, as when a leader dies before its next heartbeat.
    const hidden = inside(old).raft.status().lastIndex;
    const transport = inside(old).transport;
    const send = transport.send.bind(transport);
    transport.send = (to, address, message) => {
      const m = message as { commit?: unknown };
      send(to, address, to === next.id && typeof m.commit === 'number' && m.commit > hidden ? { ...m, commit: hidden } : message);
    };
    const created = await old.write({ v: 1, type: 'pipeline.create', name: 'p', spec: spec('p'), desired: 'stopped', at: 1 });
    await until('the follower applied the create', () => follower.status().appliedIndex >= created.index);
    await until('the next leader holds the create in its log', () => inside(next).raft.status().lastIndex >= created.index);
    expect(inside(next).fsm.view().pipeline('p')).toBeUndefined();

    // The next leader's applies wait until the forwarded replace has reached it (and at most 5 s).
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const releaseAnyway = setTimeout(() => release(), 5000);
    const fsm = inside(next).fsm;
    const apply = fsm.apply.bind(fsm);
    fsm.apply = async (entries) => {
      await held;
      return apply(entries);
    };
    const serve = inside(next).serve.bind(next);
    inside(next).serve = (method, params, peer) => {
      const answer = serve(method, params, peer);
      if (method === 'write') release();
      return answer;
    };

    expect(await old.transferLeader(next.id)).toBe(next.id);
    await until('the follower knows the next leader', () => follower.status().leaderId === next.id);
    const replaced = await follower.write({ v: 1, type: 'pipeline.replace', name: 'p', spec: { ...spec('p'), source: { type: 'generate', config: { count: 2 } } }, at: 2 });
    clearTimeout(releaseAnyway);
    expect(replaced.servedBy).toBe(next.id);
    expect(await follower.read((s) => getPipeline(s, 'p').version)).toBe(2);
    expect(await next.read((s) => getPipeline(s, 'p').spec)).toMatchObject({ source: { config: { count: 2 } } });
  });

  it('still refuses, once caught up, what the committed state refuses', async () => {
    const nodes = await threeNodes(50);
    const follower = nodes.find((n) => n.status().role === 'follower')!;
    await expect(follower.write({ v: 1, type: 'pipeline.replace', name: 'nothing', spec: spec('nothing'), at: 1 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
