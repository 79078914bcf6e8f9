/**
 * `wire pipeline …` and `wire cluster …` end to end over HTTP: the real CLI (runCli, in-process) against the real
 * API listening on 127.0.0.1 over a fake handle (a real state machine in a temp dir).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type RunningApi } from '../../src/api/server.js';
import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';
import { fakeHandle, type FakeHandle } from '../api/fake-handle.js';
import { createToken } from '../api/tokens.js';
import { apiServer } from '../../src/cli/api-token.js';

let handle: FakeHandle;
let api: RunningApi;
let dir: string;
let server: string;
let admin: string;

beforeAll(async () => {
  handle = await fakeHandle();
  admin = (await createToken(handle)).token;
  api = await startApi(handle, { host: '127.0.0.1', port: 0 });
  server = `http://${api.address}`;
  dir = await mkdtemp(join(tmpdir(), 'wire-client-'));
});

afterAll(async () => {
  await api.close();
  await handle.close();
  await rm(dir, { recursive: true, force: true });
});

/** `wire ARGS` with WIRE_SERVER and WIRE_TOKEN (an admin token) set unless `env` sets them. */
async function wire(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env: { WIRE_SERVER: server, WIRE_TOKEN: admin, ...env }, stderrIsTty: false, columns: undefined };
  const code = await runCli(['node', 'wire', ...args], io);
  return { code, out: out.join(''), err: err.join('') };
}

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

const yamlOf = (name: string, count: number) => `name: ${name}\nsource:\n  type: generate\n  config:\n    count: ${count}\nsink:\n  type: stdout\n`;

describe('wire pipeline', () => {
  it('creates, lists, gets, updates, rolls back, stops and deletes a pipeline', async () => {
    const created = await wire(['pipeline', 'create', '-f', await file('orders.yaml', yamlOf('orders', 1))]);
    expect(created).toMatchObject({ code: 0, out: 'created orders: version 1, desired running\n' });

    const list = await wire(['pipeline', 'list']);
    expect(list.out).toMatch(/^NAME\s+VERSION\s+DESIRED\s+UPDATED\norders\s+1\s+running\s+\d{4}-/);

    // Another count is another sequence: the positions checkpointed mean nothing to it, so the update says so.
    const refused = await wire(['pipeline', 'update', '-f', await file('orders2.yaml', yamlOf('orders', 2))]);
    expect(refused.code).toBe(5);
    expect(refused.err).toMatch(/CONFLICT: the update changes the source: generate \(count 1\) → generate \(count 2\).*--reset/);
    const updated = await wire(['pipeline', 'update', '-f', await file('orders2.yaml', yamlOf('orders', 2)), '--reset']);
    expect(updated.out).toBe('updated orders: version 2, desired running\n');
    expect(await handle.read((s) => s.version('orders', 2))).toMatchObject({ reset: true });

    const rolled = await wire(['pipeline', 'rollback', 'orders', '--to', '1']);
    expect(rolled.out).toBe('rolled back orders: version 3, desired running\n');

    const versions = await wire(['pipeline', 'versions', 'orders']);
    const rows = versions.out.split('\n').slice(1, 4);
    expect(rows[0]).toMatch(/^1\s+create\s+\d{4}-/);
    expect(rows[1]).toMatch(/^2\s+replace\s+\d{4}-/);
    expect(rows[2]).toMatch(/^3\*\s+rollback\s+1\s+\d{4}-/);

    const get = await wire(['pipeline', 'get', 'orders', '--json']);
    expect(JSON.parse(get.out).pipeline).toMatchObject({ name: 'orders', version: 3, spec: { source: { config: { count: 1 } } } });

    expect((await wire(['pipeline', 'stop', 'orders'])).out).toBe('stopped orders: version 3, desired stopped\n');
    expect((await wire(['pipeline', 'status', 'orders'])).out).toMatch(/^orders: version 3, desired stopped, idle, updated /);
    expect((await wire(['pipeline', 'delete', 'orders'])).out).toBe('deleted orders (it was at version 3)\n');
    expect((await wire(['pipeline', 'list'])).out).toBe('no pipelines\n');
  });

  it('create --start creates the pipeline running; --start and --stopped together are refused', async () => {
    const path = await file('started.yaml', yamlOf('started', 1));
    expect((await wire(['pipeline', 'create', '-f', path, '--start'])).out).toBe('created started: version 1, desired running\n');
    const both = await wire(['pipeline', 'create', '-f', await file('both.yaml', yamlOf('both', 1)), '--start', '--stopped']);
    expect(both.code).not.toBe(0);
    expect(both.err).toMatch(/--start.*cannot be used with.*--stopped/);
  });

  it('prints a bad file\'s problems as FILE:line:column and exits 2', async () => {
    const path = await file('bad.yaml', 'name: bad\nsource:\n  type: generate\n  config:\n    count: -4\nsink:\n  type: stdout\n');
    const res = await wire(['pipeline', 'create', '-f', path]);
    expect(res.code).toBe(2);
    expect(res.err).toContain(`${path}:5:12 source.config.count: `);
    expect(res.err).toMatch(/wire: INVALID_INPUT: the pipeline has 1 problem/);
  });

  it('exits with the code of the API error: 4 for an unknown pipeline, 5 for a second create', async () => {
    const missing = await wire(['pipeline', 'get', 'ghost']);
    expect(missing.code).toBe(4);
    expect(missing.err).toBe("wire: NOT_FOUND: pipeline 'ghost' does not exist\n  pipeline: ghost\n");
    const path = await file('twice.yaml', yamlOf('twice', 1));
    expect((await wire(['pipeline', 'create', '-f', path])).code).toBe(0);
    const again = await wire(['pipeline', 'create', '-f', path, '--json']);
    expect(again.code).toBe(5);
    expect(JSON.parse(again.err)).toMatchObject({ type: 'error', error: { code: 'CONFLICT' } });
    expect(again.out).toBe('');
  });

  it('refuses a rollback version that is not a positive integer as usage (exit 2)', async () => {
    expect((await wire(['pipeline', 'rollback', 'x', '--to', 'zero'])).code).toBe(2);
  });

  it('answers a missing file with NOT_FOUND (exit 4) before any request', async () => {
    const res = await wire(['pipeline', 'create', '-f', join(dir, 'nope.yaml')]);
    expect(res.code).toBe(4);
  });

  it('takes --server over WIRE_SERVER, and exits 7 (UNAVAILABLE) when nothing answers', async () => {
    const res = await wire(['pipeline', 'list', '--server', 'http://127.0.0.1:1'], { WIRE_SERVER: server });
    expect(res.code).toBe(7);
    expect(res.err).toMatch(/^wire: UNAVAILABLE: cannot reach the Wire API at http:\/\/127\.0\.0\.1:1/);
    const viaOption = await wire(['pipeline', 'list', '--server', server], { WIRE_SERVER: 'http://127.0.0.1:1' });
    expect(viaOption.code).toBe(0);
  });
});

describe('wire cluster', () => {
  it('status shows the cluster id, the leader and the members', async () => {
    const res = await wire(['cluster', 'status']);
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/^cluster\s+c-test\nnode\s+n1 \(leader\)\nleader\s+n1\n/);
    expect(res.out).toMatch(/^n2\s+voter\s+yes\s+127\.0\.0\.1:5001\s+127\.0\.0\.1:5002$/m);
  });

  it('nodes prints a table, or JSON with --json', async () => {
    const table = await wire(['cluster', 'nodes']);
    expect(table.out.split('\n')[0]).toMatch(/^ID\s+ROLE\s+REACHABLE\s+HTTP\s+RAFT$/);
    const json = await wire(['cluster', 'nodes', '--json']);
    expect(JSON.parse(json.out).nodes.map((n: { id: string }) => n.id)).toEqual(['n1', 'n2']);
  });

  it('remove and transfer-leader go to the handle; an unknown node exits 4', async () => {
    expect((await wire(['cluster', 'remove', 'n2'])).out).toBe('removed n2\n');
    expect((await wire(['cluster', 'remove', 'n9'])).code).toBe(4);
    expect((await wire(['cluster', 'transfer-leader', 'n2'])).out).toBe('leader is now n2\n');
    handle.leader = true;
  });
});

describe('tokens', () => {
  it('wire token create prints the token alone on stdout; list shows it without its secret; revoke refuses it', async () => {
    const created = await wire(['token', 'create', '--role', 'viewer', '--pipelines', 'orders-*,billing', '--ttl', '1h', '--name', 'grafana']);
    expect(created.code).toBe(0);
    expect(created.out).toMatch(/^wire_[A-Za-z0-9_-]{43}\n$/);
    expect(created.err).toMatch(/^created token [0-9a-f]{16} \(role viewer, expires \d{4}-.*\); it is shown only now\n$/);
    const token = created.out.trim();
    const id = /created token ([0-9a-f]{16})/.exec(created.err)![1]!;

    expect((await wire(['pipeline', 'list'], { WIRE_TOKEN: token })).code).toBe(0);
    expect((await wire(['pipeline', 'create', '-f', await file('v.yaml', yamlOf('orders-eu', 1))], { WIRE_TOKEN: token })).code).toBe(3);

    const list = await wire(['token', 'list']);
    expect(list.out).toMatch(new RegExp(`^${id}\\s+viewer\\s+orders-\\*,billing\\s+active\\s+\\d{4}-\\S+\\s+grafana$`, 'm'));
    expect(list.out).not.toContain(token.slice(5));

    expect((await wire(['token', 'revoke', id])).out).toBe(`revoked ${id}\n`);
    const refused = await wire(['pipeline', 'list'], { WIRE_TOKEN: token });
    expect(refused.code).toBe(3);
    expect(refused.err).toBe(`wire: UNAUTHORIZED: token ${id} was revoked\n  token: ${id}\n`);
  });

  it('wire audit shows who did what, from where, with what result', async () => {
    await wire(['pipeline', 'create', '-f', await file('audited.yaml', yamlOf('audited', 1))]);
    const res = await wire(['audit', '--limit', '5']);
    expect(res.code).toBe(0);
    expect(res.out.split('\n')[0]).toMatch(/^SEQ\s+TIME\s+NODE\s+ADDRESS\s+TOKEN\s+ACTION\s+TARGET\s+RESULT$/);
    expect(res.out).toMatch(/^\d+\s+\S+\s+n1\s+127\.0\.0\.1\s+[0-9a-f]{16}\s+POST \/v1\/pipelines\s+audited\s+ok$/m);
  });

  it('with no token exits 3 (UNAUTHORIZED), naming where a token comes from', async () => {
    const res = await wire(['pipeline', 'list'], { WIRE_TOKEN: '', WIRE_DATA_DIR: join(dir, 'no-such-dir') });
    expect(res.code).toBe(3);
    expect(res.err).toMatch(/^wire: UNAUTHORIZED: this route needs a token: .*--token, WIRE_TOKEN or --token-file/);
  });

  it('reads --token-file, and on loopback falls back to the admin.token of $WIRE_DATA_DIR', async () => {
    const tokenFile = await file('token.txt', `${admin}\n`);
    expect((await wire(['pipeline', 'list', '--token-file', tokenFile], { WIRE_TOKEN: '' })).code).toBe(0);
    const dataDir = join(dir, 'data');
    await mkdir(dataDir, { recursive: true });
    await writeFile(join(dataDir, 'admin.token'), `${admin}\n`);
    expect((await wire(['pipeline', 'list'], { WIRE_TOKEN: '', WIRE_DATA_DIR: dataDir })).code).toBe(0);
    // Not to another host: a token is sent only where it was meant to go.
    expect(await apiServer({ server: 'http://10.0.0.1:4001' }, { WIRE_DATA_DIR: dataDir })).toEqual({ url: new URL('http://10.0.0.1:4001') });
    expect((await apiServer({ server: 'http://[::1]:4001' }, { WIRE_DATA_DIR: dataDir })).token).toBe(admin);
  });
});
