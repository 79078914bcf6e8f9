/**
 * Tokens on three real `wire node` processes: every node's first start writes its admin token (0600, never logged,
 * nowhere else in the data dir); a token revoked through one node, or expired, is refused by every node within a
 * second; a node without a valid join token cannot join; the audit log names who did what on which node; a node
 * cut off from the leader serves no token.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, http, NodeProcesses, until, type NodeProcess } from '../node/processes.js';

const procs = new NodeProcesses();
let nodes: NodeProcess[] = [];
/** Every token the API handed out: none may be stored or logged anywhere. */
const handedOut: string[] = [];

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

/** Polls every node until each answers `status` to `token`, for at most `boundMs`; returns the nodes that did not. */
async function refusedEverywhere(token: string, status: number, boundMs: number): Promise<string[]> {
  const deadline = Date.now() + boundMs;
  let pending = [...nodes];
  while (pending.length > 0 && Date.now() <= deadline) {
    const answers = await Promise.all(pending.map((n) => http(n, 'GET', '/v1/pipelines', undefined, undefined, token)));
    pending = pending.filter((_, i) => answers[i]!.status !== status);
    if (pending.length > 0) await new Promise((r) => setTimeout(r, 20));
  }
  return pending.map((n) => n.id);
}

beforeAll(async () => {
  const n1 = await procs.start('n1', []);
  const n2 = await procs.start('n2', ['--join', n1.raft]);
  const n3 = await procs.start('n3', ['--join', n1.raft]);
  nodes = [n1, n2, n3];
  await until('every node ready', async () => (await Promise.all(nodes.map((n) => http(n, 'GET', '/readyz')))).every((r) => r.status === 200));
  await until('three voters', async () => ((await http(n1, 'GET', '/v1/cluster')).body as { members: { voter: boolean }[] }).members.filter((m) => m.voter).length === 3);
}, 120_000);

afterAll(async () => {
  await procs.stopAll();
});

describe('tokens across three nodes', () => {
  it('each first start wrote DATA_DIR/admin.token 0600; its text is in no log line and no other file of the data dir', async () => {
    for (const n of nodes) {
      const file = path.join(n.dataDir, 'admin.token');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const token = (await adminToken(n))!;
      expect(token).toMatch(/^wire_[A-Za-z0-9_-]{43}$/);
      expect((await http(n, 'GET', '/v1/tokens')).status).toBe(200);
      expect(n.stderr()).not.toContain(token);
      expect(n.stderr()).toContain('"level":20'); // debug lines were written: the grep looked at something
      const secret = Buffer.from(token);
      for (const other of nodes) {
        for (const f of await filesUnder(other.dataDir)) {
          if (f === file) continue;
          expect((await readFile(f)).includes(secret), `${f} holds ${n.id}'s admin token`).toBe(false);
        }
      }
    }
  });

  it('answers 401 to no token and 403 to a viewer writing, on every node', async () => {
    const viewer = ((await http(nodes[0]!, 'POST', '/v1/tokens', JSON.stringify({ role: 'viewer' }), 'application/json')).body as { token: string }).token;
    for (const n of nodes) {
      expect((await http(n, 'GET', '/v1/pipelines', undefined, undefined, null)).status).toBe(401);
      expect((await http(n, 'POST', '/v1/pipelines', 'name: x\nsource: { type: generate }\nsink: { type: stdout }\n', 'application/yaml', viewer)).status).toBe(403);
    }
  });

  it('refuses a token revoked through one node on every node within a second', async () => {
    for (let round = 0; round < 3; round++) {
      const through = nodes[round]!;
      const created = await http(through, 'POST', '/v1/tokens', JSON.stringify({ role: 'viewer', name: `round ${round}` }), 'application/json');
      expect(created.status).toBe(201);
      const { token, info } = created.body as { token: string; info: { id: string } };
      handedOut.push(token);
      expect(await refusedEverywhere(token, 200, 5_000)).toEqual([]);
      const revoker = nodes[(round + 1) % 3]!;
      expect((await http(revoker, 'DELETE', `/v1/tokens/${info.id}`)).status).toBe(200);
      expect(await refusedEverywhere(token, 401, 1_000)).toEqual([]);
    }
  });

  it('refuses an expired token on every node within a second of its expiry', async () => {
    const created = await http(nodes[1]!, 'POST', '/v1/tokens', JSON.stringify({ role: 'viewer', ttl: '4s' }), 'application/json');
    const { token, info } = created.body as { token: string; info: { expiresAt: number } };
    expect(await refusedEverywhere(token, 200, 1_000)).toEqual([]);
    await new Promise((r) => setTimeout(r, Math.max(0, info.expiresAt - Date.now())));
    expect(await refusedEverywhere(token, 401, 1_000)).toEqual([]);
  });

  it('records token changes and refused calls in the replicated audit log, readable on any node', async () => {
    await http(nodes[2]!, 'GET', '/v1/cluster', undefined, undefined, `wire_${'0'.repeat(43)}`);
    await until('the refused call in the audit log of n1', async () => {
      const { entries } = (await http(nodes[0]!, 'GET', '/v1/audit?limit=1000')).body as { entries: { node: string; status: number | null; action: string; command: string | null }[] };
      const refused = entries.some((e) => e.node === 'n3' && e.status === 401 && e.action === 'GET /v1/cluster');
      const revoked = entries.some((e) => e.command === 'token.revoke');
      return refused && revoked;
    }, 10_000);
  });

  it('stores and logs no token it handed out: not in any data dir (Raft log, snapshots, state), not in any log line', async () => {
    expect(handedOut).toHaveLength(3);
    for (const n of nodes) {
      const files = await filesUnder(n.dataDir);
      for (const token of handedOut) {
        expect(n.stderr()).not.toContain(token);
        for (const f of files) expect((await readFile(f)).includes(Buffer.from(token)), `${f}`).toBe(false);
      }
    }
  });

  it('keeps a node\'s admin token across a restart, and makes no other', async () => {
    const n3 = nodes[2]!;
    const before = await adminToken(n3);
    n3.child.kill('SIGTERM');
    expect(await n3.exited).toBe(0);
    const again = await procs.start('n3', [], { dataDir: n3.dataDir, raftPort: Number(n3.raft.split(':')[1]) });
    nodes[2] = again;
    await until('n3 ready again', async () => (await http(again, 'GET', '/readyz')).status === 200);
    expect(await adminToken(again)).toBe(before);
    const { tokens } = (await http(again, 'GET', '/v1/tokens')).body as { tokens: { name: string }[] };
    expect(tokens.filter((t) => t.name === 'admin token of node n3 (its first start)')).toHaveLength(1);
  });

  it('does not let a node join without a valid join token', async () => {
    const intruder = await procs.start('n4', ['--join', nodes[0]!.raft, '--join-token', 'not-the-join-token-of-this-cluster-at-all', '--join-attempts', '1']);
    expect(await intruder.exited).not.toBe(0);
    expect(intruder.stderr()).toMatch(/join.*the token is not known to this cluster/);
    const members = ((await http(nodes[0]!, 'GET', '/v1/cluster')).body as { members: { id: string }[] }).members.map((m) => m.id);
    expect(members).not.toContain('n4');
  });

  it('refuses every token call (503) on a node cut off from the leader, which cannot know of a revocation, and serves again once it hears one', async () => {
    const cut = nodes[2]!;
    const others = nodes.slice(0, 2);
    expect((await http(cut, 'GET', '/v1/pipelines')).status).toBe(200);
    // The other two stopped (SIGSTOP): no leader reaches n3, whose own API still answers.
    for (const n of others) n.child.kill('SIGSTOP');
    try {
      const refused = await until('the cut-off node to refuse its token', async () => {
        const r = await http(cut, 'GET', '/v1/pipelines');
        return r.status === 503 ? r : undefined;
      }, 20_000);
      expect((refused.body as { error: { code: string; message: string } }).error).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('cannot vouch for tokens') });
      // Health still answers (loopback).
      expect((await http(cut, 'GET', '/healthz', undefined, undefined, null)).status).toBe(200);
    } finally {
      for (const n of others) n.child.kill('SIGCONT');
    }
    await until('the node to serve its token again', async () => (await http(cut, 'GET', '/v1/pipelines')).status === 200, 30_000);
  });
});
