import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testApi, pipelineYaml, yaml, type TestApi } from './harness.js';

let t: TestApi;
beforeEach(async () => {
  t = await testApi();
  await t.api.inject({ method: 'POST', url: '/v1/pipelines', headers: yaml, payload: pipelineYaml('orders', 1) });
});
afterEach(async () => {
  await t.close();
});

describe('/v1/pipelines/:name actions', () => {
  it.each([
    ['stop', 'stopped'],
    ['pause', 'paused'],
    ['start', 'running'],
  ])('%s sets the desired state to %s', async (action, desired) => {
    if (desired === 'running') await t.api.inject({ method: 'POST', url: '/v1/pipelines/orders/stop' });
    const res = await t.api.inject({ method: 'POST', url: `/v1/pipelines/orders/${action}` });
    expect(res.statusCode).toBe(200);
    expect(res.json().pipeline.desired).toBe(desired);
    const status = await t.api.inject({ method: 'GET', url: '/v1/pipelines/orders/status' });
    expect(status.json()).toMatchObject({ name: 'orders', version: 1, desired });
  });

  it('resume runs a paused pipeline again', async () => {
    await t.api.inject({ method: 'POST', url: '/v1/pipelines/orders/pause' });
    const res = await t.api.inject({ method: 'POST', url: '/v1/pipelines/orders/resume' });
    expect(res.json().pipeline.desired).toBe('running');
  });

  it('answers an action on an unknown pipeline with NOT_FOUND', async () => {
    const res = await t.api.inject({ method: 'POST', url: '/v1/pipelines/ghost/start' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  it('rolls back to an earlier version as a new version', async () => {
    await t.api.inject({ method: 'PUT', url: '/v1/pipelines/orders?reset=true', headers: yaml, payload: pipelineYaml('orders', 2) });
    const res = await t.api.inject({ method: 'POST', url: '/v1/pipelines/orders/rollback', payload: { to: 1 } });
    expect(res.statusCode).toBe(200);
    expect(res.json().pipeline).toMatchObject({ version: 3, spec: { source: { config: { count: 1 } } } });
    const v3 = await t.api.inject({ method: 'GET', url: '/v1/pipelines/orders/versions/3' });
    expect(v3.json().version).toMatchObject({ version: 3, origin: 'rollback', from: 1 });
  });

  it('refuses a rollback to a version that does not exist (NOT_FOUND) or to the current one (CONFLICT), changing nothing', async () => {
    const missing = await t.api.inject({ method: 'POST', url: '/v1/pipelines/orders/rollback', payload: { to: 9 } });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.details).toMatchObject({ pipeline: 'orders', version: 9 });
    const current = await t.api.inject({ method: 'POST', url: '/v1/pipelines/orders/rollback', payload: { to: 1 } });
    expect(current.statusCode).toBe(409);
    const versions = await t.api.inject({ method: 'GET', url: '/v1/pipelines/orders/versions' });
    expect(versions.json().versions).toHaveLength(1);
  });

  it('answers a rollback body without `to`, or with an unknown field, with a 400 naming the field', async () => {
    const missing = await t.api.inject({ method: 'POST', url: '/v1/pipelines/orders/rollback', payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toMatchObject({ code: 'INVALID_INPUT', details: { field: 'body.to' } });
    const extra = await t.api.inject({ method: 'POST', url: '/v1/pipelines/orders/rollback', payload: { to: 1, force: true } });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().error.details.field).toBe('body.force');
    const zero = await t.api.inject({ method: 'POST', url: '/v1/pipelines/orders/rollback', payload: { to: 0 } });
    expect(zero.json().error.details.field).toBe('body.to');
  });

  it('answers a version that does not exist with NOT_FOUND', async () => {
    const res = await t.api.inject({ method: 'GET', url: '/v1/pipelines/orders/versions/4' });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.message).toMatch(/no version 4/);
  });

  it('answers a malformed JSON body with INVALID_INPUT', async () => {
    const res = await t.api.inject({ method: 'POST', url: '/v1/pipelines/orders/rollback', headers: { 'content-type': 'application/json' }, payload: '{"to":' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('INVALID_INPUT');
  });
});

describe('writes on a follower', () => {
  it('are forwarded by the handle, and the answer names the node that served them', async () => {
    t.handle.leader = false;
    const res = await t.api.inject({ method: 'POST', url: '/v1/pipelines/orders/stop' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-wire-served-by']).toBe('n2');
    expect(res.headers['x-wire-node']).toBe('n1');
  });

  it('answer 307 to the leader with ?redirect, writing nothing here', async () => {
    t.handle.leader = false;
    const before = t.handle.writes.length;
    const res = await t.api.inject({ method: 'POST', url: '/v1/pipelines/orders/stop?redirect' });
    expect(res.statusCode).toBe(307);
    expect(res.headers['location']).toBe('http://127.0.0.1:5001/v1/pipelines/orders/stop?redirect');
    expect(t.handle.writes.length).toBe(before);
    const create = await t.api.inject({ method: 'POST', url: '/v1/pipelines?redirect=true', headers: yaml, payload: pipelineYaml('other') });
    expect(create.statusCode).toBe(307);
  });

  it('answer UNAVAILABLE with ?redirect when no leader is known', async () => {
    t.handle.leader = false;
    t.handle.leaderHttp = null;
    const res = await t.api.inject({ method: 'POST', url: '/v1/pipelines/orders/stop?redirect' });
    expect(res.statusCode).toBe(503);
    expect(res.json().error).toMatchObject({ code: 'UNAVAILABLE', details: { retryable: true } });
  });

  it('are served locally with ?redirect=false', async () => {
    t.handle.leader = false;
    const res = await t.api.inject({ method: 'POST', url: '/v1/pipelines/orders/stop?redirect=false' });
    expect(res.statusCode).toBe(200);
  });
});
