/**
 * Authentication, authorization, the failed-auth rate limit and the audit log of the API, through `inject` over a
 * real state machine (docs/security.md, "Tokens and roles" and "Audit").
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pipelineYaml, testApi, unauthenticated, yaml, type TestApi } from './harness.js';

let t: TestApi;
afterEach(async () => {
  await t.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('authentication', () => {
  it('answers 401 with WWW-Authenticate to a call with no token, on every /v1 route and POST /connector', async () => {
    t = await testApi();
    for (const [method, url] of [
      ['GET', '/v1/pipelines'],
      ['GET', '/v1/cluster'],
      ['DELETE', '/v1/pipelines/orders'],
      ['POST', '/connector'],
      ['GET', '/v1/tokens'],
      ['GET', '/v1/audit'],
      ['GET', '/status'],
    ] as const) {
      const res = await t.api.inject({ method, url, headers: unauthenticated });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHORIZED');
      expect(res.headers['www-authenticate']).toBe('Bearer realm="wire"');
    }
    // The OpenAPI document describes the API and holds no state.
    expect((await t.api.inject({ method: 'GET', url: '/docs/json', headers: unauthenticated, remoteAddress: '10.1.2.3' })).statusCode).toBe(200);
  });

  it('answers 401 to an unknown, malformed, revoked or expired token', async () => {
    t = await testApi();
    const viewer = await t.token('viewer');
    const expired = await t.token('viewer', { expiresAt: Date.now() - 1 });
    const revoke = await t.api.inject({ method: 'DELETE', url: `/v1/tokens/${viewer.id}` });
    expect(revoke.statusCode).toBe(200);
    for (const authorization of [`Bearer wire_${'x'.repeat(43)}`, 'Basic abc', 'Bearer', `Bearer ${viewer.token}`, `Bearer ${expired.token}`]) {
      const res = await t.api.inject({ method: 'GET', url: '/v1/pipelines', headers: { authorization } });
      expect(res.statusCode, authorization).toBe(401);
    }
    const revoked = await t.api.inject({ method: 'GET', url: '/v1/pipelines', headers: bearer(viewer.token) });
    expect(revoked.json().error.message).toBe(`token ${viewer.id} was revoked`);
    const late = await t.api.inject({ method: 'GET', url: '/v1/pipelines', headers: bearer(expired.token) });
    expect(late.json().error.message).toBe(`token ${expired.id} has expired`);
  });

  it('lets /healthz, /readyz and /metrics through on loopback only by default; open and token change that', async () => {
    t = await testApi();
    expect((await t.api.inject({ method: 'GET', url: '/healthz', headers: unauthenticated })).statusCode).toBe(200);
    const remote = { method: 'GET', url: '/metrics', remoteAddress: '10.1.2.3' } as const;
    expect((await t.api.inject({ ...remote, headers: unauthenticated })).statusCode).toBe(401);
    expect((await t.api.inject({ ...remote, headers: bearer((await t.token('viewer')).token) })).statusCode).toBe(200);
    await t.close();

    t = await testApi({ auth: { health: 'open' } });
    expect((await t.api.inject({ ...remote, headers: unauthenticated })).statusCode).toBe(200);
    await t.close();

    t = await testApi({ auth: { health: 'token' } });
    expect((await t.api.inject({ method: 'GET', url: '/healthz', headers: unauthenticated })).statusCode).toBe(401);
  });
});

describe('roles and pipeline patterns', () => {
  it('lets a viewer read and refuses it any change (403)', async () => {
    t = await testApi();
    const viewer = bearer((await t.token('viewer')).token);
    expect((await t.api.inject({ method: 'GET', url: '/v1/pipelines', headers: viewer })).statusCode).toBe(200);
    const create = await t.api.inject({ method: 'POST', url: '/v1/pipelines', headers: { ...yaml, ...viewer }, payload: pipelineYaml('orders') });
    expect(create.statusCode).toBe(403);
    expect(create.json().error).toMatchObject({ code: 'FORBIDDEN', details: { role: 'viewer', needs: 'operator' } });
    expect(t.handle.writes.filter((c) => c.type.startsWith('pipeline.'))).toEqual([]);
  });

  it('lets an operator change pipelines, and refuses it tokens, the audit log and membership (403)', async () => {
    t = await testApi();
    const operator = bearer((await t.token('operator')).token);
    expect((await t.api.inject({ method: 'POST', url: '/v1/pipelines', headers: { ...yaml, ...operator }, payload: pipelineYaml('orders') })).statusCode).toBe(201);
    expect((await t.api.inject({ method: 'POST', url: '/v1/pipelines/orders/stop', headers: operator })).statusCode).toBe(200);
    for (const [method, url] of [
      ['POST', '/v1/tokens'],
      ['GET', '/v1/tokens'],
      ['GET', '/v1/audit'],
      ['DELETE', '/v1/cluster/nodes/n2'],
      ['POST', '/v1/cluster/leader/transfer'],
    ] as const) {
      const res = await t.api.inject({ method, url, headers: operator, ...(method === 'POST' ? { payload: { role: 'admin' } } : {}) });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
    }
    expect(t.handle.removed).toEqual([]);
  });

  it('limits a token with pipeline patterns to the pipelines they match, in writes, reads and lists', async () => {
    t = await testApi();
    await t.api.inject({ method: 'POST', url: '/v1/pipelines', headers: yaml, payload: pipelineYaml('billing') });
    const scoped = bearer((await t.token('operator', { pipelines: ['orders-*'] })).token);
    expect((await t.api.inject({ method: 'POST', url: '/v1/pipelines', headers: { ...yaml, ...scoped }, payload: pipelineYaml('orders-eu') })).statusCode).toBe(201);
    const other = await t.api.inject({ method: 'POST', url: '/v1/pipelines', headers: { ...yaml, ...scoped }, payload: pipelineYaml('payments') });
    expect(other.statusCode).toBe(403);
    expect(other.json().error.details).toMatchObject({ pipeline: 'payments' });
    const connector = await t.api.inject({ method: 'POST', url: '/connector', headers: scoped, payload: { name: 'payments', source: { type: 'generate', config: { count: 1 } }, sink: { type: 'stdout' } } });
    expect(connector.statusCode).toBe(403);
    expect((await t.api.inject({ method: 'GET', url: '/v1/pipelines/billing', headers: scoped })).statusCode).toBe(403);
    expect((await t.api.inject({ method: 'POST', url: '/v1/pipelines/billing/stop', headers: scoped })).statusCode).toBe(403);
    expect((await t.api.inject({ method: 'DELETE', url: '/v1/pipelines/billing', headers: scoped })).statusCode).toBe(403);
    const list = await t.api.inject({ method: 'GET', url: '/v1/pipelines', headers: scoped });
    expect(list.json().pipelines.map((p: { name: string }) => p.name)).toEqual(['orders-eu']);
    expect((await t.api.inject({ method: 'GET', url: '/v1/pipelines' })).json().pipelines).toHaveLength(2);
  });

  it('refuses a join token every route (403)', async () => {
    t = await testApi();
    const join = bearer((await t.token('join')).token);
    expect((await t.api.inject({ method: 'GET', url: '/v1/cluster', headers: join })).statusCode).toBe(403);
  });
});

describe('/v1/tokens', () => {
  it('creates a token shown once, lists tokens without secrets or hashes, and revokes one', async () => {
    t = await testApi();
    const created = await t.api.inject({ method: 'POST', url: '/v1/tokens', payload: { role: 'viewer', ttl: '1h', name: 'grafana' } });
    expect(created.statusCode).toBe(201);
    const { token, info } = created.json() as { token: string; info: { id: string; expiresAt: number; state: string } };
    expect(token).toMatch(/^wire_[A-Za-z0-9_-]{43}$/);
    expect(info).toMatchObject({ role: 'viewer', name: 'grafana', state: 'active' });
    expect(info.expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
    expect((await t.api.inject({ method: 'GET', url: '/v1/cluster', headers: bearer(token) })).statusCode).toBe(200);

    const listed = await t.api.inject({ method: 'GET', url: '/v1/tokens' });
    expect(listed.body).not.toContain(token.slice(5));
    expect(listed.body).not.toContain('hash');
    expect(listed.json().tokens.find((x: { id: string }) => x.id === info.id)).toMatchObject({ role: 'viewer', state: 'active' });

    expect((await t.api.inject({ method: 'DELETE', url: `/v1/tokens/${info.id}` })).json()).toEqual({ revoked: info.id });
    expect((await t.api.inject({ method: 'GET', url: '/v1/cluster', headers: bearer(token) })).statusCode).toBe(401);
    expect((await t.api.inject({ method: 'GET', url: '/v1/tokens' })).json().tokens.find((x: { id: string }) => x.id === info.id).state).toBe('revoked');
    expect((await t.api.inject({ method: 'DELETE', url: '/v1/tokens/0123456789abcdef' })).statusCode).toBe(404);
    const { entries } = (await t.api.inject({ method: 'GET', url: '/v1/audit' })).json() as { entries: { command: string; target: string }[] };
    expect(entries.filter((e) => e.command.startsWith('token.')).map((e) => [e.command, e.target])).toEqual([
      ['token.create', info.id],
      ['token.revoke', info.id],
    ]);
  });

  it('refuses a bad role, pattern or ttl with 400 naming the field', async () => {
    t = await testApi();
    for (const [payload, field] of [
      [{ role: 'root' }, 'body.role'],
      [{ role: 'viewer', pipelines: ['Orders!'] }, 'body.pipelines.0'],
      [{ role: 'viewer', ttl: '5 years' }, 'body.ttl'],
      [{ role: 'viewer', secret: 'x' }, 'body.secret'],
    ] as const) {
      const res = await t.api.inject({ method: 'POST', url: '/v1/tokens', payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(res.json().error.details.field).toBe(field);
    }
  });
});

describe('failed authentications', () => {
  it('are limited per client address: 429 with Retry-After, even for a valid token, while other addresses are not', async () => {
    t = await testApi({ auth: { failures: { burst: 3, perSecond: 0.01 } } });
    const from = (remoteAddress: string, authorization?: string) =>
      t.api.inject({ method: 'GET', url: '/v1/pipelines', remoteAddress, headers: authorization === undefined ? unauthenticated : { authorization } });
    for (let i = 0; i < 3; i++) expect((await from('10.0.0.7', `Bearer wire_${String(i).repeat(43)}`)).statusCode).toBe(401);
    const limited = await from('10.0.0.7', `Bearer ${t.adminToken}`);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect((await from('10.0.0.8', `Bearer ${t.adminToken}`)).statusCode).toBe(200);
    expect((await from('10.0.0.8')).statusCode).toBe(401);
  });
});

describe('the audit log', () => {
  it('records a mutating call when its command applies: token, role, node, address, action, target, result', async () => {
    t = await testApi();
    await t.api.inject({ method: 'POST', url: '/v1/pipelines', headers: yaml, payload: pipelineYaml('orders'), remoteAddress: '10.9.8.7' });
    const { entries } = (await t.api.inject({ method: 'GET', url: '/v1/audit' })).json() as { entries: Record<string, unknown>[] };
    const admin = (await t.api.inject({ method: 'GET', url: '/v1/tokens' })).json().tokens[0].id as string;
    expect(entries.at(-1)).toMatchObject({
      node: 'n1',
      address: '10.9.8.7',
      token: admin,
      role: 'admin',
      action: 'POST /v1/pipelines',
      target: 'orders',
      command: 'pipeline.create',
      result: 'ok',
      status: null,
    });
  });

  it('records refused calls (401, 403, a state rule) in a batch, with the status answered', async () => {
    t = await testApi({ auth: { auditIntervalMs: 20 } });
    const viewer = await t.token('viewer');
    await t.api.inject({ method: 'POST', url: '/v1/pipelines/orders/stop', headers: unauthenticated, remoteAddress: '10.0.0.1' });
    await t.api.inject({ method: 'POST', url: '/v1/pipelines/orders/stop', headers: bearer(viewer.token) });
    await t.api.inject({ method: 'POST', url: '/v1/pipelines/orders/stop' });
    let entries: Record<string, unknown>[] = [];
    for (let i = 0; i < 100 && entries.length < 3; i++) {
      await new Promise((r) => setTimeout(r, 20));
      entries = ((await t.api.inject({ method: 'GET', url: '/v1/audit' })).json() as { entries: Record<string, unknown>[] }).entries.filter((e) => e['action'] === 'POST /v1/pipelines/:name/stop');
    }
    expect(entries.map((e) => [e['status'], e['result'], e['token'], e['target']])).toEqual([
      [401, 'UNAUTHORIZED', null, 'orders'],
      [403, 'FORBIDDEN', viewer.id, 'orders'],
      [404, 'NOT_FOUND', expect.any(String), 'orders'],
    ]);
    expect(entries[0]).toMatchObject({ address: '10.0.0.1', command: null });
  });
});
