import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSnapshot, type SnapshotEntry } from '../../src/cluster/snapshot-format.js';
import { testApi, pipelineYaml, yaml, type TestApi } from './harness.js';

let t: TestApi;
beforeEach(async () => {
  t = await testApi();
});
afterEach(async () => {
  await t.close();
});

describe('/v1/cluster', () => {
  it("answers the node's view: cluster id, leader, term, indexes and members", async () => {
    const res = await t.api.inject({ method: 'GET', url: '/v1/cluster' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: 'c-test', node: 'n1', role: 'leader', leaderId: 'n1', term: 3, nodes: 1, pipelines: 0 });
    expect(res.json().members.map((m: { id: string }) => m.id)).toEqual(['n1', 'n2']);
  });

  it('lists members with their Raft view and their recorded role and labels', async () => {
    const res = await t.api.inject({ method: 'GET', url: '/v1/cluster/nodes' });
    expect(res.json().nodes).toEqual([
      { id: 'n1', raftAddress: '127.0.0.1:4002', httpAddress: '127.0.0.1:4001', role: 'voter', labels: { zone: 'a' }, voter: true, reachable: true, leader: true },
      { id: 'n2', raftAddress: '127.0.0.1:5002', httpAddress: '127.0.0.1:5001', role: null, labels: {}, voter: true, reachable: true, leader: false },
    ]);
  });

  it('streams a backup in the snapshot format, consistent unless ?consistent=false', async () => {
    expect((await t.api.inject({ method: 'POST', url: '/v1/pipelines', headers: yaml, payload: pipelineYaml('p1') })).statusCode).toBe(201);
    const res = await t.api.inject({ method: 'GET', url: '/v1/cluster/backup' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/octet-stream');
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="wire-backup-.*\.wbk"$/);
    const entries: SnapshotEntry[] = [];
    const { header } = await readSnapshot((async function* () {
      yield res.rawPayload;
    })(), (batch) => void entries.push(...batch));
    expect(header.clusterId).toBe('c-test');
    expect(entries.filter((e) => e.keyspace === 'pipelines').map((e) => e.key)).toEqual(['p1']);
    expect(t.handle.reads.at(-1)).toEqual({ consistent: true });
    await t.api.inject({ method: 'GET', url: '/v1/cluster/backup?consistent=false' });
    expect(t.handle.reads.at(-1)).toEqual({ consistent: false });
  });

  it('removes a node, and answers an unknown one with NOT_FOUND', async () => {
    const res = await t.api.inject({ method: 'DELETE', url: '/v1/cluster/nodes/n2' });
    expect(res.json()).toEqual({ removed: 'n2' });
    expect(t.handle.removed).toEqual(['n2']);
    const unknown = await t.api.inject({ method: 'DELETE', url: '/v1/cluster/nodes/n9' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toMatchObject({ code: 'NOT_FOUND', details: { node: 'n9' } });
  });

  it('transfers leadership, to a named node or to whichever the handle picks', async () => {
    const named = await t.api.inject({ method: 'POST', url: '/v1/cluster/leader/transfer', payload: { to: 'n2' } });
    expect(named.json()).toEqual({ leader: 'n2' });
    const any = await t.api.inject({ method: 'POST', url: '/v1/cluster/leader/transfer' });
    expect(any.json()).toEqual({ leader: 'n2' });
    const unknown = await t.api.inject({ method: 'POST', url: '/v1/cluster/leader/transfer', payload: { to: 'n9' } });
    expect(unknown.statusCode).toBe(404);
  });
});

describe('health', () => {
  it('/healthz answers ok with the node id', async () => {
    const res = await t.api.inject({ method: 'GET', url: '/healthz' });
    expect(res.json()).toEqual({ status: 'ok', node: 'n1' });
  });

  it("/readyz answers the original Wire's [+]check ok lines", async () => {
    const res = await t.api.inject({ method: 'GET', url: '/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toBe('[+]node ok\n[+]leader ok\n[+]store ok\n');
  });

  it('/metrics answers the handle metrics in Prometheus text', async () => {
    const res = await t.api.inject({ method: 'GET', url: '/metrics' });
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body).toMatch(/^wire_raft_term 3$/m);
  });

  it('answers an unknown route with NOT_FOUND in the error shape', async () => {
    const res = await t.api.inject({ method: 'GET', url: '/v2/nothing?x=1' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: 'no route GET /v2/nothing', details: { method: 'GET' } } });
  });
});

describe('/readyz before the cluster forms', () => {
  it('answers 503 with a [-] line for the failing check', async () => {
    const fresh = await testApi({ init: false });
    try {
      const res = await fresh.api.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.body).toBe('[+]node ok\n[-]leader no leader yet\n[+]store ok\n');
    } finally {
      await fresh.close();
    }
  });
});

describe("the original Wire's routes", () => {
  it('GET /nodes answers an object keyed by id with id, api_addr, addr, voter, reachable, leader', async () => {
    const res = await t.api.inject({ method: 'GET', url: '/nodes' });
    expect(res.json()).toEqual({
      n1: { id: 'n1', api_addr: 'http://127.0.0.1:4001', addr: '127.0.0.1:4002', voter: true, reachable: true, leader: true },
      n2: { id: 'n2', api_addr: 'http://127.0.0.1:5001', addr: '127.0.0.1:5002', voter: true, reachable: true, leader: false },
    });
  });

  it('GET /status answers the node, its Raft state and its leader', async () => {
    const res = await t.api.inject({ method: 'GET', url: '/status' });
    expect(res.json()).toMatchObject({
      node: { id: 'n1' },
      cluster: { id: 'c-test', nodes: 1, pipelines: 0 },
      store: { node_id: 'n1', leader: { node_id: 'n1', addr: '127.0.0.1:4002' }, raft: { state: 'leader', term: 3 } },
    });
  });

  it('POST /connector turns a {source, sink} body into a pipeline; the same body again is CONFLICT', async () => {
    const body = { source: { type: 'generate', config: { count: 2 } }, sink: { type: 'stdout', config: {} } };
    const res = await t.api.inject({ method: 'POST', url: '/connector', payload: body });
    expect(res.statusCode).toBe(201);
    const { pipeline } = res.json();
    expect(pipeline.name).toMatch(/^connector-[0-9a-f]{12}$/);
    expect(pipeline.spec).toMatchObject({ source: { type: 'generate' }, sink: { type: 'stdout' } });
    const again = await t.api.inject({ method: 'POST', url: '/connector', payload: body });
    expect(again.statusCode).toBe(409);
    const named = await t.api.inject({ method: 'POST', url: '/connector', payload: { ...body, name: 'mine' } });
    expect(named.json().pipeline.name).toBe('mine');
  });

  it('POST /connector without a sink is a 400 naming it; with an unknown source type, the loader names it', async () => {
    const res = await t.api.inject({ method: 'POST', url: '/connector', payload: { source: { type: 'generate' } } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.field).toBe('body.sink');
    const unknown = await t.api.inject({ method: 'POST', url: '/connector', payload: { source: { type: 'kafkaa' }, sink: { type: 'stdout' } } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.details.problems[0].path).toBe('source.type');
  });
});

describe('/docs', () => {
  it('serves the OpenAPI document generated from the route schemas', async () => {
    await t.api.inject({ method: 'POST', url: '/v1/pipelines', headers: yaml, payload: pipelineYaml('x') });
    const res = await t.api.inject({ method: 'GET', url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of ['/v1/pipelines', '/v1/pipelines/{name}', '/v1/pipelines/{name}/rollback', '/v1/cluster/nodes/{id}', '/readyz', '/connector']) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    expect(Object.keys(doc.paths['/v1/pipelines'].post.requestBody.content)).toContain('application/yaml');
    expect(doc.components.schemas).toHaveProperty('Error');
    const ui = await t.api.inject({ method: 'GET', url: '/docs' });
    expect(ui.statusCode).toBeLessThan(400);
  });
});
