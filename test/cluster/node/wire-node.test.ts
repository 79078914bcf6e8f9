// `wire node` processes (dist/, run `npm run build` first) forming, serving and surviving failures on 127.0.0.1.
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts, http, NodeProcesses, pipelineYaml, until, type NodeProcess } from './processes.js';

const nodes = new NodeProcesses();
afterEach(() => nodes.stopAll());

const leaderOf = async (n: NodeProcess): Promise<string | undefined> => ((await http(n, 'GET', '/status')).body as { store: { leader: { node_id: string } | null } }).store.leader?.node_id || undefined;
const versionOn = async (n: NodeProcess, name: string): Promise<number | undefined> => {
  const r = await http(n, 'GET', `/v1/pipelines/${name}`);
  return r.status === 200 ? (r.body as { pipeline: { version: number } }).pipeline.version : undefined;
};
const metric = async (n: NodeProcess, name: string): Promise<number> => {
  const text = (await http(n, 'GET', '/metrics')).body as string;
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  if (!m) throw new Error(`no ${name} in /metrics`);
  return Number(m[1]);
};

describe('wire node', () => {
  it('3 nodes with --bootstrap-expect 3 form one cluster; a write through a follower is on every node; kill -9 of the leader loses nothing; SIGTERM hands over', async () => {
    const ports = await freePorts(3);
    const join = ports.map((p) => `127.0.0.1:${p}`).join(',');
    const args = ['--bootstrap-expect', '3', '--join', join];
    const started = await Promise.all(['n1', 'n2', 'n3'].map((id, i) => nodes.start(id, args, { raftPort: ports[i] })));
    await until('every node ready', async () => (await Promise.all(started.map((n) => http(n, 'GET', '/readyz')))).every((r) => r.status === 200));
    const clusterIds = await Promise.all(started.map(async (n) => ((await http(n, 'GET', '/v1/cluster')).body as { id: string }).id));
    expect(new Set(clusterIds).size).toBe(1);

    const leaderId = await until('a leader', () => leaderOf(started[0]!));
    const leader = started.find((n) => n.id === leaderId)!;
    const follower = started.find((n) => n.id !== leaderId)!;
    const created = await http(follower, 'POST', '/v1/pipelines', pipelineYaml('p1'));
    expect(created.status).toBe(201);
    expect(created.headers.get('x-wire-served-by')).toBe(leaderId);
    expect(await versionOn(follower, 'p1')).toBe(1);
    for (const n of started) expect(await until(`p1 on ${n.id}`, () => versionOn(n, 'p1'))).toBe(1);
    await http(follower, 'PUT', '/v1/pipelines/p1?reset=true', pipelineYaml('p1', 2));

    leader.child.kill('SIGKILL');
    await leader.exited;
    const survivors = started.filter((n) => n !== leader);
    // Writes answer again once a new leader is elected; nothing committed is lost.
    await until('a write after the leader died', async () => (await http(survivors[0]!, 'POST', '/v1/pipelines', pipelineYaml('p2'))).status === 201);
    for (const n of survivors) expect(await versionOn(n, 'p1')).toBe(2);

    const back = await nodes.start(leader.id, args, { raftPort: ports[started.indexOf(leader)], dataDir: leader.dataDir });
    expect(await until('p2 on the restarted node', () => versionOn(back, 'p2'))).toBe(1);
    expect(await versionOn(back, 'p1')).toBe(2);
    expect(((await http(back, 'GET', '/v1/cluster')).body as { id: string }).id).toBe(clusterIds[0]);

    const all = [back, ...survivors];
    const newLeaderId = await until('a leader', () => leaderOf(back));
    const newLeader = all.find((n) => n.id === newLeaderId)!;
    // All three must answer before the leader is stopped, so it has a voter to hand over to.
    await until('all reachable', async () => ((await http(newLeader, 'GET', '/nodes')).body && Object.values((await http(newLeader, 'GET', '/nodes')).body as Record<string, { reachable: boolean }>).every((x) => x.reachable)));
    newLeader.child.kill('SIGTERM');
    expect(await newLeader.exited).toBe(0);
    expect(newLeader.stderr()).toContain('handed leadership to');
    const rest = all.filter((n) => n !== newLeader);
    await until('a write after the stepdown', async () => (await http(rest[0]!, 'POST', '/v1/pipelines', pipelineYaml('p3'))).status === 201);
  }, 240_000);

  it('a learner that joins after compaction catches up by snapshot; remove takes it out', async () => {
    const n1 = await nodes.start('n1', ['--raft-snapshot-threshold', '5']);
    await until('n1 ready', async () => (await http(n1, 'GET', '/readyz')).status === 200);
    for (let i = 0; i < 30; i++) expect((await http(n1, 'POST', '/v1/pipelines', pipelineYaml(`p${i}`))).status).toBe(201);
    // The log no longer holds the first entries: a new node can only be sent a snapshot.
    await until('compaction', async () => (await metric(n1, 'wire_raft_first_index')) > 10);

    const n2 = await nodes.start('n2', ['--join', n1.raft, '--raft-non-voter', '--join-interval', '200ms']);
    await until('n2 ready', async () => (await http(n2, 'GET', '/readyz')).status === 200);
    const list = await until('30 pipelines on n2', async () => {
      const r = (await http(n2, 'GET', '/v1/pipelines')).body as { pipelines: Array<{ name: string }> };
      return r.pipelines.length === 30 ? r.pipelines : undefined;
    });
    expect(list.map((p) => p.name).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `p${i}`).sort());
    expect(await metric(n2, 'wire_raft_snapshot_index')).toBeGreaterThan(0);
    const members = (await http(n1, 'GET', '/nodes')).body as Record<string, { voter: boolean }>;
    expect(members.n2?.voter).toBe(false);
    expect(((await http(n2, 'GET', '/status')).body as { store: { raft: { state: string } } }).store.raft.state).toBe('learner');

    const removed = await http(n1, 'DELETE', '/v1/cluster/nodes/n2');
    expect(removed.status).toBeLessThan(300);
    const after = (await http(n1, 'GET', '/nodes')).body as Record<string, unknown>;
    expect(Object.keys(after)).toEqual(['n1']);
    expect((await http(n1, 'DELETE', '/v1/cluster/nodes/n2')).status).toBe(404);
  }, 240_000);

  it("refuses to join a peer of another cluster with its data dir", async () => {
    const a = await nodes.start('a1', []);
    const b = await nodes.start('b1', []);
    await until('both ready', async () => (await http(a, 'GET', '/readyz')).status === 200 && (await http(b, 'GET', '/readyz')).status === 200);
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    const again = spawn(process.execPath, [WIRE, 'node', '--node-id', 'a1', '--data-dir', a.dataDir, '--http-addr', '127.0.0.1:0', '--raft-addr', '127.0.0.1:0', '--join', b.raft], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    again.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const code = await new Promise<number | null>((resolve) => again.once('exit', resolve));
    expect(code).toBe(5);
    expect(err).toContain("belongs to cluster");
  }, 120_000);

  it.each([
    [['--bootstrap-expect', 'three', '--join', '127.0.0.1:1'], '--bootstrap-expect'],
    [['--raft-addr', 'nowhere'], '--raft-addr'],
    [['--bootstrap-expect', '3'], '--bootstrap-expect'],
    [['--join-interval', '5 parsecs', '--join', '127.0.0.1:1'], '--join-interval'],
    [['--node-label', 'novalue'], '--node-label'],
    [['--raft-addr', '0.0.0.0:0'], '--raft-adv-addr'],
  ])('a bad flag %j exits 2 naming %s and writes nothing', async (args, flag) => {
    const dataDir = path.join(await nodes.dir(), 'never');
    const child = spawn(process.execPath, [WIRE, 'node', '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(2);
    expect(err).toContain(flag);
    expect(existsSync(dataDir)).toBe(false);
  });

  it('takes a flag from its WIRE_* variable, and the flag over the variable', async () => {
    const dataDir = path.join(await nodes.dir(), 'never');
    const run = (args: string[], env: Record<string, string>) => {
      const child = spawn(process.execPath, [WIRE, 'node', '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      return new Promise<{ code: number | null; err: string }>((resolve) => child.once('exit', (code) => resolve({ code, err })));
    };
    const fromEnv = await run([], { WIRE_JOIN_ATTEMPTS: '0' });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.err).toContain('--join-attempts');
    const flagWins = await run(['--join-attempts', 'x'], { WIRE_JOIN_ATTEMPTS: '3', WIRE_RAFT_ADDR: 'bad' });
    expect(flagWins.err).toContain('--raft-addr');
    const flagOverEnv = await run(['--raft-addr', 'also-bad'], { WIRE_RAFT_ADDR: '127.0.0.1:1' });
    expect(flagOverEnv.err).toContain("'also-bad'");
  });
});

const WIRE = fileURLToPath(new URL('../../../bin/wire.js', import.meta.url));
