// Every route refuses query fields and bodies it does not define (400 naming the field), changing nothing.
import { afterEach, describe, expect, it } from 'vitest';
import { pipelineYaml, testApi, yaml, type TestApi } from '../api/harness.js';

let t: TestApi | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('strict routes', () => {
  it('refuses an unknown query field on every kind of route, naming it', async () => {
    t = await testApi();
    await t.api.inject({ method: 'POST', url: '/v1/pipelines?desired=stopped', headers: yaml, payload: pipelineYaml('p') });
    const requests = [
      { method: 'GET', url: '/v1/pipelines?consitent=true' },
      { method: 'GET', url: '/v1/pipelines/p?x=1' },
      { method: 'GET', url: '/healthz?x=1' },
      { method: 'GET', url: '/status?x=1' },
      { method: 'POST', url: '/v1/pipelines/p/start?ifversion=1' },
      { method: 'DELETE', url: '/v1/pipelines/p?force=true' },
      { method: 'DELETE', url: '/v1/cluster/nodes/n2?force=true' },
      { method: 'POST', url: '/v1/pipelines/validate?x=1', headers: yaml, payload: pipelineYaml('q') },
    ] as const;
    for (const r of requests) {
      const res = await t.api.inject(r);
      expect(res.statusCode, `${r.method} ${r.url}`).toBe(400);
      expect(res.json().error.details.field).toMatch(/^querystring\./);
    }
    const after = await t.api.inject({ method: 'GET', url: '/v1/pipelines/p' });
    expect(after.json().pipeline).toMatchObject({ version: 1, desired: 'stopped' });
    expect(t.handle.removed).toEqual([]);
  });

  it('answers a pipeline route sent no body at all with a 400, not a 500', async () => {
    t = await testApi();
    for (const [method, url] of [['POST', '/v1/pipelines'], ['PUT', '/v1/pipelines/a'], ['POST', '/v1/pipelines/validate']] as const) {
      const res = await t.api.inject({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(400);
      expect(res.json().error.details.field).toBe('body');
    }
  });

  it('refuses a body on a route that takes none, and accepts an empty one', async () => {
    t = await testApi();
    await t.api.inject({ method: 'POST', url: '/v1/pipelines?desired=stopped', headers: yaml, payload: pipelineYaml('p') });
    const withBody = await t.api.inject({ method: 'POST', url: '/v1/pipelines/p/start', payload: { desired: 'paused' } });
    expect(withBody.statusCode).toBe(400);
    expect(withBody.json().error.details.field).toBe('body');
    expect((await t.api.inject({ method: 'GET', url: '/v1/pipelines/p' })).json().pipeline.desired).toBe('stopped');
    expect((await t.api.inject({ method: 'POST', url: '/v1/pipelines/p/start', payload: {} })).statusCode).toBe(200);
    expect((await t.api.inject({ method: 'POST', url: '/v1/pipelines/p/stop' })).statusCode).toBe(200);
  });
});
