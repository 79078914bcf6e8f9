import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testApi, pipelineYaml, yaml, type TestApi } from './harness.js';

let t: TestApi;
beforeEach(async () => {
  t = await testApi();
});
afterEach(async () => {
  await t.close();
});

const create = (name: string, count = 3) => t.api.inject({ method: 'POST', url: '/v1/pipelines', headers: yaml, payload: pipelineYaml(name, count) });

describe('/v1/pipelines', () => {
  it('creates a pipeline from YAML at version 1, running, and lists and gets it', async () => {
    const res = await create('orders');
    expect(res.statusCode).toBe(201);
    const { pipeline } = res.json();
    expect(pipeline).toMatchObject({ name: 'orders', version: 1, desired: 'running' });
    expect(pipeline.spec).toMatchObject({ name: 'orders', source: { type: 'generate', config: { count: 3 } }, sink: { type: 'stdout' } });
    expect(res.headers['x-wire-served-by']).toBe('n1');
    expect(res.headers['x-wire-node']).toBe('n1');

    const list = await t.api.inject({ method: 'GET', url: '/v1/pipelines' });
    expect(list.json().pipelines.map((p: { name: string }) => p.name)).toEqual(['orders']);
    const get = await t.api.inject({ method: 'GET', url: '/v1/pipelines/orders' });
    expect(get.json().pipeline).toEqual(pipeline);
  });

  it('creates from a JSON body too, and stopped when asked', async () => {
    const body = JSON.stringify({ name: 'j', source: { type: 'generate', config: { count: 1 } }, sink: { type: 'stdout' } });
    const res = await t.api.inject({ method: 'POST', url: '/v1/pipelines?desired=stopped', headers: { 'content-type': 'application/json' }, payload: body });
    expect(res.statusCode).toBe(201);
    expect(res.json().pipeline).toMatchObject({ name: 'j', desired: 'stopped' });
  });

  it('answers a second create of the same name with CONFLICT and keeps the first', async () => {
    await create('orders', 3);
    const res = await create('orders', 9);
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('CONFLICT');
    const get = await t.api.inject({ method: 'GET', url: '/v1/pipelines/orders' });
    expect(get.json().pipeline).toMatchObject({ version: 1, spec: { source: { config: { count: 3 } } } });
  });

  it('answers a bad pipeline file with its problems, line and column included, and stores nothing', async () => {
    const text = 'name: bad\nsource:\n  type: generate\n  config:\n    count: -4\nsink:\n  type: nowhere\n';
    const res = await t.api.inject({ method: 'POST', url: '/v1/pipelines', headers: yaml, payload: text });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.details.field).toMatch(/^body\./);
    expect(error.details.problems.length).toBeGreaterThanOrEqual(2);
    expect(error.details.problems).toContainEqual(expect.objectContaining({ line: 5, column: 12, path: 'source.config.count' }));
    expect(error.details.problems).toContainEqual(expect.objectContaining({ line: 7, path: 'sink.type' }));
    expect(error.message).toMatch(/line \d+ column \d+/);
    expect(t.handle.writes.filter((c) => c.type !== 'audit.append')).toEqual([]);
  });

  it('answers YAML that does not parse with the line and column of the syntax error', async () => {
    const res = await t.api.inject({ method: 'POST', url: '/v1/pipelines', headers: yaml, payload: 'name: x\nsource: [unclosed\n' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.problems[0]).toMatchObject({ line: expect.any(Number), column: expect.any(Number) });
  });

  it('refuses a body describing several pipelines', async () => {
    const text = `pipelines:\n  - ${pipelineYaml('a').replaceAll('\n', '\n    ').trimEnd()}\n  - ${pipelineYaml('b').replaceAll('\n', '\n    ').trimEnd()}\n`;
    const res = await t.api.inject({ method: 'POST', url: '/v1/pipelines', headers: yaml, payload: text });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.pipelines).toEqual(['a', 'b']);
  });

  it('does not resolve ${VAR} from the node environment (no node secret reaches the state)', async () => {
    process.env['WIRE_API_TEST_SECRET'] = 'hunter2';
    try {
      const text = 'name: s\nsource:\n  type: generate\n  config:\n    count: 1\nsink:\n  type: file\n  config:\n    path: /tmp/${WIRE_API_TEST_SECRET}\n';
      const res = await t.api.inject({ method: 'POST', url: '/v1/pipelines', headers: yaml, payload: text });
      expect(res.statusCode).toBe(400);
      expect(res.body).not.toContain('hunter2');
    } finally {
      delete process.env['WIRE_API_TEST_SECRET'];
    }
  });

  it('replaces a pipeline with a new version, keeping the old ones', async () => {
    await create('orders', 3);
    const res = await t.api.inject({ method: 'PUT', url: '/v1/pipelines/orders?reset=true', headers: yaml, payload: pipelineYaml('orders', 7) });
    expect(res.statusCode).toBe(200);
    expect(res.json().pipeline).toMatchObject({ version: 2, spec: { source: { config: { count: 7 } } } });
    const versions = await t.api.inject({ method: 'GET', url: '/v1/pipelines/orders/versions' });
    expect(versions.json()).toMatchObject({ name: 'orders', current: 2, versions: [{ version: 1, origin: 'create' }, { version: 2, origin: 'replace' }] });
  });

  it('refuses an update whose source makes the checkpointed positions meaningless unless it resets, and says so', async () => {
    await create('orders', 3);
    const refused = await t.api.inject({ method: 'PUT', url: '/v1/pipelines/orders', headers: yaml, payload: pipelineYaml('orders', 7) });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/changes the source.*--reset/), details: { field: 'reset' } });
    expect((await t.api.inject({ method: 'GET', url: '/v1/pipelines/orders' })).json().pipeline.version).toBe(1);
    // The rate only paces the same sequence: the positions still apply.
    const paced = await t.api.inject({ method: 'PUT', url: '/v1/pipelines/orders', headers: yaml, payload: pipelineYaml('orders', 3).replace('count: 3', 'count: 3\n    rate: 10') });
    expect(paced.statusCode, paced.body).toBe(200);
    const reset = await t.api.inject({ method: 'PUT', url: '/v1/pipelines/orders?reset=true', headers: yaml, payload: pipelineYaml('orders', 7) });
    expect(reset.statusCode).toBe(200);
    const v3 = await t.api.inject({ method: 'GET', url: '/v1/pipelines/orders/versions/3' });
    expect(v3.json().version).toMatchObject({ version: 3, reset: true });
  });

  it('refuses a replace whose body names another pipeline', async () => {
    await create('orders');
    const res = await t.api.inject({ method: 'PUT', url: '/v1/pipelines/orders', headers: yaml, payload: pipelineYaml('other') });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.field).toBe('body.name');
  });

  it('refuses a replace with a stale ifVersion (CONFLICT) and of an unknown pipeline (NOT_FOUND)', async () => {
    await create('orders');
    await t.api.inject({ method: 'PUT', url: '/v1/pipelines/orders?reset=true', headers: yaml, payload: pipelineYaml('orders', 5) });
    const stale = await t.api.inject({ method: 'PUT', url: '/v1/pipelines/orders?ifVersion=1&reset=true', headers: yaml, payload: pipelineYaml('orders', 6) });
    expect(stale.statusCode).toBe(409);
    const unknown = await t.api.inject({ method: 'PUT', url: '/v1/pipelines/ghost', headers: yaml, payload: pipelineYaml('ghost') });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('NOT_FOUND');
    const get = await t.api.inject({ method: 'GET', url: '/v1/pipelines/orders' });
    expect(get.json().pipeline.version).toBe(2);
  });

  it('deletes a pipeline; a second delete is NOT_FOUND', async () => {
    await create('orders');
    const res = await t.api.inject({ method: 'DELETE', url: '/v1/pipelines/orders' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ deleted: 'orders', version: 1 });
    const again = await t.api.inject({ method: 'DELETE', url: '/v1/pipelines/orders' });
    expect(again.statusCode).toBe(404);
    expect((await t.api.inject({ method: 'GET', url: '/v1/pipelines/orders' })).statusCode).toBe(404);
  });

  it('deletes a pipeline whose task runs only once it has stopped the pipeline and the task stopped at a checkpoint', async () => {
    await create('orders');
    const at = 1;
    await t.handle.write({ v: 1, type: 'node.upsert', node: { id: 'n9', raftAddress: 'n9:1', httpAddress: 'n9:2', role: 'voter', labels: {} }, at });
    const source = { type: 'generate', config: { count: 3 } };
    await t.handle.write({ v: 1, type: 'task.assign', assignments: [{ pipeline: 'orders', task: '0', node: 'n9', epoch: 100, version: 1, source }], at });
    const deleting = t.api.inject({ method: 'DELETE', url: '/v1/pipelines/orders' });
    for (let i = 0; i < 200 && !t.handle.writes.some((c) => c.type === 'pipeline.setDesired'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(t.handle.writes.at(-1)).toMatchObject({ type: 'pipeline.setDesired', name: 'orders', desired: 'stopped' });
    // The task's node drains it and releases it (as its agent does); only then is the pipeline deleted.
    await new Promise((r) => setTimeout(r, 200));
    expect(await t.handle.read((s) => s.pipeline('orders')?.desired)).toBe('stopped');
    await t.handle.write({ v: 1, type: 'task.drain', tasks: [{ pipeline: 'orders', task: '0', epoch: 100 }], at });
    await t.handle.write({ v: 1, type: 'task.release', pipeline: 'orders', task: '0', epoch: 100, node: 'n9', at });
    const res = await deleting;
    expect(res.statusCode).toBe(200);
    expect(t.handle.writes.map((c) => c.type).slice(-4)).toEqual(['pipeline.setDesired', 'task.drain', 'task.release', 'pipeline.delete']);
    expect(await t.handle.read((s) => s.tasks('orders'))).toEqual([]);
  });

  it('answers an unknown pipeline with NOT_FOUND and a bad name with a 400 naming the field', async () => {
    const res = await t.api.inject({ method: 'GET', url: '/v1/pipelines/ghost' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: { code: 'NOT_FOUND', message: "pipeline 'ghost' does not exist", details: { pipeline: 'ghost' } } });
    const bad = await t.api.inject({ method: 'GET', url: '/v1/pipelines/Not%20Valid' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'INVALID_INPUT', details: { field: 'params.name' } });
  });

  it('reads locally by default and through the consistent read when ?consistent=true', async () => {
    // The route's read is the last of each request (the token is looked up first, locally).
    await t.api.inject({ method: 'GET', url: '/v1/pipelines' });
    expect(t.handle.reads.at(-1)?.consistent === true).toBe(false);
    await t.api.inject({ method: 'GET', url: '/v1/pipelines?consistent=true' });
    expect(t.handle.reads.at(-1)?.consistent === true).toBe(true);
    expect(t.handle.reads.filter((r) => r.consistent === true)).toHaveLength(1);
  });

  it('refuses a body over the limit with 413 and a body of another type with 415', async () => {
    const big = pipelineYaml('big') + `# ${'x'.repeat(2 << 20)}\n`;
    const res = await t.api.inject({ method: 'POST', url: '/v1/pipelines', headers: yaml, payload: big });
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toMatchObject({ code: 'INVALID_INPUT', details: { limit: 1 << 20 } });
    const other = await t.api.inject({ method: 'POST', url: '/v1/pipelines', headers: { 'content-type': 'application/xml' }, payload: '<x/>' });
    expect(other.statusCode).toBe(415);
    expect(other.json().error.code).toBe('INVALID_INPUT');
  });
});

describe('POST /v1/pipelines/validate', () => {
  it('answers valid with the names, or every problem with its line and column, and stores nothing', async () => {
    const ok = await t.api.inject({ method: 'POST', url: '/v1/pipelines/validate', headers: yaml, payload: pipelineYaml('v') });
    expect(ok.json()).toEqual({ valid: true, pipelines: ['v'], problems: [] });
    const bad = await t.api.inject({ method: 'POST', url: '/v1/pipelines/validate', headers: yaml, payload: 'name: v\nsource:\n  type: generate\n' });
    expect(bad.statusCode).toBe(200);
    expect(bad.json().valid).toBe(false);
    expect(bad.json().problems[0]).toMatchObject({ line: expect.any(Number), column: expect.any(Number), message: expect.any(String) });
    expect(t.handle.writes.filter((c) => c.type !== 'audit.append')).toEqual([]);
  });
});
