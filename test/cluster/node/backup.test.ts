// Backing up a cluster (`wire cluster backup`, GET /v1/cluster/backup) and restoring it (`wire node --restore`):
// multi-process, through dist/ (run `npm run build` first).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts, http, NodeProcesses, pipelineYaml, until, type NodeProcess } from './processes.js';

const WIRE = fileURLToPath(new URL('../../../bin/wire.js', import.meta.url));
const nodes = new NodeProcesses();
afterEach(() => nodes.stopAll());

const run = promisify(execFile);
async function wire(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [WIRE, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const versions = async (n: NodeProcess, name: string): Promise<number[]> =>
  ((await http(n, 'GET', `/v1/pipelines/${name}/versions`)).body as { versions: Array<{ version: number }> }).versions.map((v) => v.version);
const clusterOf = async (n: NodeProcess) => (await http(n, 'GET', '/v1/cluster')).body as { id: string; leaderId: string | null; members: Array<{ id: string }> };

describe('backup and restore', () => {
  it('a hot backup through a follower restores into a new one-node cluster with every pipeline version, a new cluster id and only the new node', async () => {
    const ports = await freePorts(3);
    const args = ['--bootstrap-expect', '3', '--join', ports.map((p) => `127.0.0.1:${p}`).join(',')];
    const started = await Promise.all(['n1', 'n2', 'n3'].map((id, i) => nodes.start(id, args, { raftPort: ports[i] })));
    await until('every node ready', async () => (await Promise.all(started.map((n) => http(n, 'GET', '/readyz')))).every((r) => r.status === 200));
    const leaderId = await until('a leader', async () => (await clusterOf(started[0]!)).leaderId ?? undefined);
    const leader = started.find((n) => n.id === leaderId)!;
    const follower = started.find((n) => n.id !== leaderId)!;
    expect((await http(leader, 'POST', '/v1/pipelines', pipelineYaml('p1'))).status).toBe(201);
    expect((await http(leader, 'PUT', '/v1/pipelines/p1?reset=true', pipelineYaml('p1', 2))).status).toBe(200);
    // The last write before the backup goes to the leader: a consistent backup through the follower holds it.
    expect((await http(leader, 'POST', '/v1/pipelines', pipelineYaml('p2'))).status).toBe(201);

    const dir = await nodes.dir();
    const file = path.join(dir, 'cluster.wbk');
    const backedUp = await wire(['cluster', 'backup', '--server', `http://${follower.http}`, '--token-file', path.join(follower.dataDir, 'admin.token'), '-o', file, '--json']);
    expect(backedUp.stderr).toBe('');
    expect(backedUp.code).toBe(0);
    expect(JSON.parse(backedUp.stdout)).toMatchObject({ file, bytes: (await readFile(file)).length });
    const oldCluster = (await clusterOf(leader)).id;
    for (const n of started) n.child.kill('SIGKILL');
    await Promise.all(started.map((n) => n.exited));

    const restored = await nodes.start('r1', ['--restore', file]);
    await until('the restored node ready', async () => (await http(restored, 'GET', '/readyz')).status === 200);
    expect(await versions(restored, 'p1')).toEqual([1, 2]);
    expect(await versions(restored, 'p2')).toEqual([1]);
    const cluster = await until('its own record', async () => {
      const c = await clusterOf(restored);
      return c.members.length === 1 && c.id !== null ? c : undefined;
    });
    expect(cluster.id).not.toBe(oldCluster);
    expect(cluster.members.map((m) => m.id)).toEqual(['r1']);
    const listed = (await http(restored, 'GET', '/v1/cluster/nodes')).body as { nodes: Array<{ id: string }> };
    expect(listed.nodes.map((n) => n.id)).toEqual(['r1']);
    expect((await http(restored, 'POST', '/v1/pipelines', pipelineYaml('p3'))).status).toBe(201);
    expect((await http(restored, 'PUT', '/v1/pipelines/p1?reset=true', pipelineYaml('p1', 3))).status).toBe(200);
    expect(await versions(restored, 'p1')).toEqual([1, 2, 3]);
  }, 240_000);

  it('refuses a data dir that is not empty, and a damaged backup, leaving the data dir as it was', async () => {
    const solo = await nodes.start('s1', []);
    await until('ready', async () => (await http(solo, 'GET', '/readyz')).status === 200);
    expect((await http(solo, 'POST', '/v1/pipelines', pipelineYaml('p1'))).status).toBe(201);
    const dir = await nodes.dir();
    const file = path.join(dir, 'good.wbk');
    expect((await wire(['cluster', 'backup', '--server', `http://${solo.http}`, '--token-file', path.join(solo.dataDir, 'admin.token'), '-o', file])).code).toBe(0);

    const used = path.join(dir, 'used');
    await mkdir(used);
    await writeFile(path.join(used, 'keep'), 'x');
    const refused = await wire(['node', '--node-id', 'x', '--data-dir', used, '--restore', file, '--http-addr', '127.0.0.1:0', '--raft-addr', '127.0.0.1:0']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('--restore needs an empty --data-dir');
    expect(await readdir(used)).toEqual(['keep']);

    const bytes = await readFile(file);
    const damaged = path.join(dir, 'damaged.wbk');
    await writeFile(damaged, bytes.subarray(0, bytes.length - 3));
    const fresh = path.join(dir, 'fresh');
    const cut = await wire(['node', '--node-id', 'y', '--data-dir', fresh, '--restore', damaged, '--http-addr', '127.0.0.1:0', '--raft-addr', '127.0.0.1:0']);
    expect(cut.code).toBe(2);
    expect(cut.stderr).toContain('snapshot refused');
    expect(existsSync(fresh)).toBe(false);

    const joined = await wire(['node', '--node-id', 'z', '--data-dir', path.join(dir, 'z'), '--restore', file, '--join', '127.0.0.1:1']);
    expect(joined.code).toBe(2);
    expect(joined.stderr).toContain('--restore');
  }, 120_000);
});
