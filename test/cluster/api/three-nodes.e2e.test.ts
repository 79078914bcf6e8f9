/**
 * Three real `wire node` processes on loopback, driven through the HTTP API and the `wire pipeline` CLI: a pipeline
 * created through a follower is visible on every node with the same version, and so is its update; the original
 * routes answer in their shapes on every node.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, runWire, startWire, waitFor, type WireProcess } from '../../cli/harness.js';

interface Started {
  readonly id: string;
  readonly http: string;
  readonly raft: string;
  readonly process: WireProcess;
}

const nodes: Started[] = [];
let cwd: string;
/** Given to every node (founder registers it, joiners show it); the CLI reads n1's admin.token. */
const joinToken = randomBytes(32).toString('hex');
let env: NodeJS.ProcessEnv;
let token = '';

async function startNodeProcess(id: string, join_: string[]): Promise<Started> {
  const args = ['node', '--node-id', id, '--data-dir', join(cwd, id), '--http-addr', '127.0.0.1:0', '--raft-addr', '127.0.0.1:0', '--log-level', 'warn'];
  if (join_.length > 0) args.push('--join', join_.join(','));
  const process = startWire(args, { cwd, env: { WIRE_JOIN_TOKEN: joinToken } });
  let ready: { id: string; http: string; raft: string } | undefined;
  await waitFor(() => {
    const line = process.stdout().split('\n').find((l) => l.startsWith('{"ready"'));
    if (line !== undefined) ready = (JSON.parse(line) as { ready: { id: string; http: string; raft: string } }).ready;
    return ready !== undefined || process.child.exitCode !== null;
  }, 30_000, 50);
  if (ready === undefined) throw new Error(`wire node ${id} did not start: ${process.stderr()}`);
  const started = { id, http: ready.http, raft: ready.raft, process };
  nodes.push(started);
  return started;
}

async function getJson(node: Started, path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://${node.http}${path}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

interface ClusterView {
  leaderId: string | null;
  members: { id: string; voter: boolean; reachable: boolean }[];
}

beforeAll(async () => {
  cwd = await makeTempDir();
  env = { WIRE_TOKEN_FILE: join(cwd, 'n1', 'admin.token') };
  const n1 = await startNodeProcess('n1', []);
  await waitFor(async () => (await fetch(`http://${n1.http}/readyz`).catch(() => undefined))?.status === 200, 30_000, 50);
  token = (await readFile(join(cwd, 'n1', 'admin.token'), 'utf8')).trim();
  await startNodeProcess('n2', [n1.raft]);
  await startNodeProcess('n3', [n1.raft]);
  await waitFor(async () => {
    const views = await Promise.all(nodes.map((n) => getJson(n, '/v1/cluster').catch(() => undefined)));
    return views.every((v) => {
      const c = v?.body as ClusterView | undefined;
      return c !== undefined && c.leaderId !== null && c.members.length === 3 && c.members.every((m) => m.voter);
    });
  }, 60_000, 100);
}, 120_000);

afterAll(async () => {
  await cleanup();
});

describe('three wire nodes through the API and the CLI', () => {
  it('a pipeline created through a follower is visible on every node with the same version, and so is its update', async () => {
    const { body } = await getJson(nodes[0]!, '/v1/cluster');
    const leaderId = (body as ClusterView).leaderId;
    const followers = nodes.filter((n) => n.id !== leaderId);
    expect(followers).toHaveLength(2);

    const file = join(cwd, 'orders.yaml');
    await writeFile(file, 'name: orders\nsource:\n  type: generate\n  config:\n    count: 1\nsink:\n  type: stdout\n');
    const created = await runWire(['pipeline', 'create', '-f', file, '--server', `http://${followers[0]!.http}`], { cwd, env });
    expect(created.stderr).toBe('');
    expect(created.stdout).toBe('created orders: version 1, desired running\n');

    for (const node of nodes) {
      const res = await getJson(node, '/v1/pipelines/orders?consistent=true');
      expect(res.status).toBe(200);
      expect((res.body as { pipeline: { version: number } }).pipeline.version).toBe(1);
    }

    await writeFile(file, 'name: orders\nsource:\n  type: generate\n  config:\n    count: 2\nsink:\n  type: stdout\n');
    const updated = await runWire(['pipeline', 'update', '-f', file, '--server', `http://${followers[1]!.http}`, '--json', '--reset'], { cwd, env });
    expect(JSON.parse(updated.stdout).pipeline.version).toBe(2);
    for (const node of nodes) {
      // A local read: the write answered once applied on the follower that served it; the others catch up.
      await waitFor(async () => ((await getJson(node, '/v1/pipelines/orders')).body as { pipeline: { version: number } }).pipeline.version === 2, 10_000, 50);
      const listed = await runWire(['pipeline', 'versions', 'orders', '--server', `http://${node.http}`, '--json'], { cwd, env });
      expect(JSON.parse(listed.stdout)).toMatchObject({ current: 2, versions: [{ version: 1 }, { version: 2 }] });
    }
  }, 60_000);

  it('a write sent with ?redirect to a follower is answered 307 to the leader', async () => {
    const { body } = await getJson(nodes[0]!, '/v1/cluster');
    const leaderId = (body as ClusterView).leaderId;
    const follower = nodes.find((n) => n.id !== leaderId)!;
    const leader = nodes.find((n) => n.id === leaderId)!;
    const res = await fetch(`http://${follower.http}/v1/pipelines/orders/stop?redirect`, { method: 'POST', redirect: 'manual', headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(307);
    expect(res.headers.get('location')).toBe(`http://${leader.http}/v1/pipelines/orders/stop?redirect`);
  });

  it("answers the original routes in their shapes on every node", async () => {
    for (const node of nodes) {
      const res = await getJson(node, '/nodes');
      const byId = res.body as Record<string, { id: string; api_addr: string; addr: string; voter: boolean; reachable: boolean; leader: boolean }>;
      expect(Object.keys(byId).sort()).toEqual(['n1', 'n2', 'n3']);
      expect(Object.values(byId).filter((n) => n.leader)).toHaveLength(1);
      expect(byId[node.id]).toMatchObject({ api_addr: `http://${node.http}`, addr: node.raft, voter: true, reachable: true });
      const ready = await fetch(`http://${node.http}/readyz`);
      expect(await ready.text()).toMatch(/^\[\+\]node ok$/m);
    }
  });
});
