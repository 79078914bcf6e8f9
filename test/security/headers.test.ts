// Security headers on every answer (routes, errors, 404s), CORS off unless --cors-origin names the origin.
import { afterEach, describe, expect, it } from 'vitest';
import { parseCorsOrigin, SECURITY_HEADERS } from '../../src/security/headers.js';
import { testApi, type TestApi } from '../api/harness.js';

let t: TestApi | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('security headers', () => {
  it('are on every answer: a route, a validation error, an unknown route, a body too large', async () => {
    t = await testApi({ bodyLimit: 2048 });
    const answers = await Promise.all([
      t.api.inject({ method: 'GET', url: '/v1/cluster' }),
      t.api.inject({ method: 'GET', url: '/v1/pipelines/BAD NAME' }),
      t.api.inject({ method: 'GET', url: '/nowhere' }),
      t.api.inject({ method: 'POST', url: '/v1/pipelines', headers: { 'content-type': 'application/yaml' }, payload: 'x'.repeat(4096) }),
    ]);
    expect(answers.map((a) => a.statusCode)).toEqual([200, 400, 404, 413]);
    for (const res of answers) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(res.headers[name], name).toBe(value);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }
  });
});

describe('CORS', () => {
  it('is off by default: no allow-origin for any origin, and a preflight is not answered', async () => {
    t = await testApi();
    const res = await t.api.inject({ method: 'GET', url: '/v1/cluster', headers: { origin: 'https://evil.example' } });
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await t.api.inject({ method: 'OPTIONS', url: '/v1/pipelines', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(preflight.statusCode).toBe(404);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers an origin of the allow-list, and its preflight, and no other origin', async () => {
    t = await testApi({ corsOrigins: ['https://ui.example.com'] });
    const ok = await t.api.inject({ method: 'GET', url: '/v1/cluster', headers: { origin: 'https://ui.example.com' } });
    expect(ok.headers['access-control-allow-origin']).toBe('https://ui.example.com');
    expect(ok.headers['vary']).toContain('Origin');
    const preflight = await t.api.inject({ method: 'OPTIONS', url: '/v1/pipelines', headers: { origin: 'https://ui.example.com', 'access-control-request-method': 'POST' } });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    expect(preflight.headers['access-control-allow-headers']).toContain('authorization');
    const other = await t.api.inject({ method: 'GET', url: '/v1/cluster', headers: { origin: 'https://ui.example.com.evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('--cors-origin takes exact origins only', () => {
    expect(parseCorsOrigin('https://ui.example.com:8443')).toBe('https://ui.example.com:8443');
    expect(() => parseCorsOrigin('*')).toThrow(/--cors-origin/);
    expect(() => parseCorsOrigin('https://ui.example.com/app')).toThrow(/no path/);
    expect(() => parseCorsOrigin('file:///x')).toThrow(/--cors-origin/);
  });
});
