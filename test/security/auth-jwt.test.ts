/**
 * JWTs from a configured issuer beside Wire's own tokens (docs/security.md, "JWTs"): a JWKS served on loopback, JWTs
 * signed with `jose`, and the API over a real state machine (`inject`). A JWT's role comes from its claim; a JWT
 * that is expired, of another issuer or audience, signed by another key, with `alg: none`, or HMAC-signed with the
 * public key is refused; the calls it makes are audited under `jwt:<sub>`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseSecurityFlags } from '../../src/cli/commands/security-flags.js';
import { pipelineYaml, testApi, yaml, type TestApi } from '../api/harness.js';

type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

const ISSUER = 'https://issuer.example';
let server: Server;
let jwksUrl: string;
let fetches = 0;
let signingKey: Key;
let otherKey: Key;
let publicJwk: JWK;
let t: TestApi | undefined;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256');
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair('ES256')).privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  server = createServer((_req, res) => {
    fetches++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

afterEach(async () => {
  await t?.close();
  t = undefined;
});

const jwtApi = async (): Promise<TestApi> => (t = await testApi({ auth: { auditIntervalMs: 20, jwt: { jwksUrl, issuer: ISSUER, audience: 'wire', roleClaim: 'wire_role', pipelinesClaim: 'wire_pipelines' } } }));

async function sign(claims: JWTPayload, options: { key?: Key; kid?: string; expiresIn?: string | number; issuer?: string; audience?: string; sub?: string } = {}): Promise<string> {
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: options.kid ?? 'k1' })
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? 'wire')
    .setIssuedAt();
  if (options.sub !== '') jwt = jwt.setSubject(options.sub ?? 'alice');
  if (options.expiresIn !== undefined) jwt = jwt.setExpirationTime(options.expiresIn);
  return jwt.sign(options.key ?? signingKey);
}

const as = (token: string) => ({ authorization: `Bearer ${token}` });
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('JWTs of a configured issuer', () => {
  it('maps the role claim: a viewer reads and may not write, an operator writes pipelines, an admin reads the audit', async () => {
    await jwtApi();
    const viewer = await sign({ wire_role: 'viewer' }, { expiresIn: '5m', sub: 'val' });
    expect((await t!.api.inject({ method: 'GET', url: '/v1/pipelines', headers: as(viewer) })).statusCode).toBe(200);
    const refused = await t!.api.inject({ method: 'POST', url: '/v1/pipelines', headers: { ...yaml, ...as(viewer) }, payload: pipelineYaml('orders') });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.message).toMatch(/^token jwt:val has the role viewer/);
    // A list of roles: the strongest one counts.
    const operator = await sign({ wire_role: ['viewer', 'operator'] }, { expiresIn: '5m', sub: 'otto' });
    expect((await t!.api.inject({ method: 'POST', url: '/v1/pipelines', headers: { ...yaml, ...as(operator) }, payload: pipelineYaml('orders') })).statusCode).toBe(201);
    expect((await t!.api.inject({ method: 'GET', url: '/v1/audit', headers: as(operator) })).statusCode).toBe(403);
    const admin = await sign({ wire_role: 'admin' }, { expiresIn: '5m' });
    type Entry = { token: string | null; action: string; result: string };
    let entries: Entry[] = [];
    // The refused call reaches the audit log with the next batch of refusals (every 20 ms here).
    for (let i = 0; i < 250 && entries.length < 2; i++) {
      const audit = await t!.api.inject({ method: 'GET', url: '/v1/audit', headers: as(admin) });
      expect(audit.statusCode).toBe(200);
      entries = (audit.json() as { entries: Entry[] }).entries.filter((e) => e.action === 'POST /v1/pipelines');
      if (entries.length < 2) await new Promise((r) => setTimeout(r, 20));
    }
    expect(entries).toEqual(expect.arrayContaining([
      expect.objectContaining({ token: 'jwt:otto', action: 'POST /v1/pipelines', result: 'ok' }),
      expect.objectContaining({ token: 'jwt:val', action: 'POST /v1/pipelines', result: 'FORBIDDEN' }),
    ]));
    // The keys were fetched once and cached.
    expect(fetches).toBe(1);
  });

  it('limits a JWT to the pipelines of its pipelines claim', async () => {
    await jwtApi();
    const scoped = await sign({ wire_role: 'operator', wire_pipelines: ['orders-*'] }, { expiresIn: '5m' });
    expect((await t!.api.inject({ method: 'POST', url: '/v1/pipelines', headers: { ...yaml, ...as(scoped) }, payload: pipelineYaml('orders-eu') })).statusCode).toBe(201);
    expect((await t!.api.inject({ method: 'POST', url: '/v1/pipelines', headers: { ...yaml, ...as(scoped) }, payload: pipelineYaml('payments') })).statusCode).toBe(403);
    const bad = await sign({ wire_role: 'operator', wire_pipelines: ['ORDERS/.*'] }, { expiresIn: '5m' });
    expect((await t!.api.inject({ method: 'GET', url: '/v1/pipelines', headers: as(bad) })).statusCode).toBe(403);
  });

  it('refuses JWTs that are expired, of another issuer or audience, signed by another key, without exp, sub or role', async () => {
    await jwtApi();
    const cases: [string, string, number, RegExp][] = [
      ['expired', await sign({ wire_role: 'admin' }, { expiresIn: Math.floor(Date.now() / 1000) - 60 }), 401, /the JWT has expired/],
      ['other issuer', await sign({ wire_role: 'admin' }, { expiresIn: '5m', issuer: 'https://evil.example' }), 401, /iss/],
      ['other audience', await sign({ wire_role: 'admin' }, { expiresIn: '5m', audience: 'other' }), 401, /aud/],
      ['other key', await sign({ wire_role: 'admin' }, { expiresIn: '5m', key: otherKey }), 401, /signature verification failed/],
      ['unknown kid', await sign({ wire_role: 'admin' }, { expiresIn: '5m', key: otherKey, kid: 'k2' }), 401, /no applicable key found/],
      ['no exp', await sign({ wire_role: 'admin' }), 401, /"exp" claim/],
      ['no sub', await sign({ wire_role: 'admin' }, { expiresIn: '5m', sub: '' }), 401, /"sub" claim/],
      ['no role', await sign({}, { expiresIn: '5m' }), 403, /has no role: its claim wire_role must be one of viewer, operator, admin/],
      ['join role', await sign({ wire_role: 'join' }, { expiresIn: '5m' }), 403, /has no role/],
    ];
    for (const [what, token, status, message] of cases) {
      const res = await t!.api.inject({ method: 'GET', url: '/v1/pipelines', headers: as(token) });
      expect(res.statusCode, what).toBe(status);
      expect(res.json().error.message, what).toMatch(message);
    }
  });

  it('refuses alg none, and an HMAC signature made with the public key as the secret', async () => {
    await jwtApi();
    const claims = { iss: ISSUER, aud: 'wire', sub: 'mallory', wire_role: 'admin', exp: Math.floor(Date.now() / 1000) + 300 };
    const none = `${b64({ alg: 'none' })}.${b64(claims)}.x`;
    const { createHmac } = await import('node:crypto');
    const head = `${b64({ alg: 'HS256', kid: 'k1' })}.${b64(claims)}`;
    const hmac = `${head}.${createHmac('sha256', JSON.stringify(publicJwk)).update(head).digest('base64url')}`;
    for (const token of [none, hmac]) {
      const res = await t!.api.inject({ method: 'GET', url: '/v1/pipelines', headers: as(token) });
      expect(res.statusCode).toBe(401);
    }
  });

  it('without the JWT flags, a JWT is not a token at all (401), and Wire tokens keep working beside JWTs', async () => {
    t = await testApi();
    const admin = await sign({ wire_role: 'admin' }, { expiresIn: '5m' });
    const res = await t.api.inject({ method: 'GET', url: '/v1/pipelines', headers: as(admin) });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.message).toBe('the token is not known to this cluster');
    await t.close();
    await jwtApi();
    expect((await t!.api.inject({ method: 'GET', url: '/v1/pipelines' })).statusCode).toBe(200);
  });

  it('refuses hostile bearers with 401 and goes on serving: deeply nested, invalid UTF-8, not base64url, huge', async () => {
    await jwtApi();
    const nested = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const claims = b64({ iss: ISSUER, aud: 'wire', sub: 'x', wire_role: 'admin', exp: Math.floor(Date.now() / 1000) + 300 });
    const hostile = [
      `${Buffer.from(nested).toString('base64url')}.${claims}.sig`,
      `${b64({ alg: 'ES256', kid: 'k1' })}.${Buffer.from(`{"sub":"${nested}`).toString('base64url')}.sig`,
      `${Buffer.from([0xff, 0xfe, 0x7b]).toString('base64url')}.${claims}.sig`,
      `${b64({ alg: 'ES256', kid: 'k1' })}.${Buffer.from([0xc3, 0x28]).toString('base64url')}.sig`,
      `${b64({ alg: 'ES256', kid: 'k1' })}.${claims}.${'A'.repeat(3000)}`,
      `a.b.${'c'.repeat(20_000)}`,
    ];
    for (const token of hostile) {
      const res = await t!.api.inject({ method: 'GET', url: '/v1/pipelines', headers: as(token), remoteAddress: '10.9.9.9' });
      expect(res.statusCode, token.slice(0, 40)).toBe(401);
    }
    const ok = await sign({ wire_role: 'viewer' }, { expiresIn: '5m' });
    expect((await t!.api.inject({ method: 'GET', url: '/v1/pipelines', headers: as(ok) })).statusCode).toBe(200);
  });

  it('answers 503 when the JWKS never finishes its answer, once its 5 s are up', { timeout: 30_000 }, async () => {
    const endless = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"keys":[');
      const timer = setInterval(() => res.write(' '), 100);
      res.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(endless.address() as AddressInfo).port}/jwks.json`;
      t = await testApi({ auth: { jwt: { jwksUrl: url, issuer: ISSUER, audience: 'wire', roleClaim: 'wire_role', pipelinesClaim: 'wire_pipelines' } } });
      const res = await t.api.inject({ method: 'GET', url: '/v1/pipelines', headers: as(await sign({ wire_role: 'admin' }, { expiresIn: '5m' })) });
      expect(res.statusCode).toBe(503);
      expect(res.json().error.message).toMatch(/^the JWKS at http:\/\/127\.0\.0\.1:\d+\/jwks\.json /);
    } finally {
      endless.closeAllConnections();
      await new Promise((resolve) => endless.close(resolve));
    }
  });

  it('answers 503 when the JWKS cannot be fetched, naming it', async () => {
    t = await testApi({ auth: { jwt: { jwksUrl: 'http://127.0.0.1:1/jwks.json', issuer: ISSUER, audience: 'wire', roleClaim: 'wire_role', pipelinesClaim: 'wire_pipelines' } } });
    const res = await t.api.inject({ method: 'GET', url: '/v1/pipelines', headers: as(await sign({ wire_role: 'admin' }, { expiresIn: '5m' })) });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.message).toMatch(/^the JWKS at http:\/\/127\.0\.0\.1:1\/jwks\.json cannot be fetched/);
  });
});

describe('the --jwt-* flags of wire node', () => {
  const addresses = { http: { host: '127.0.0.1', port: 4001 }, raft: { host: '127.0.0.1', port: 4002 } };
  const parse = (v: Record<string, string>, env: Record<string, string> = {}) => parseSecurityFlags(v, env, addresses).jwt;

  it('are off by default; --jwt-jwks-url with --jwt-issuer turns them on with the defaults', () => {
    expect(parse({})).toBeUndefined();
    expect(parse({ jwtJwksUrl: 'https://id.example/jwks.json', jwtIssuer: ISSUER })).toEqual({
      jwksUrl: 'https://id.example/jwks.json',
      issuer: ISSUER,
      audience: 'wire',
      roleClaim: 'wire_role',
      pipelinesClaim: 'wire_pipelines',
    });
    expect(parse({}, { WIRE_JWT_JWKS_URL: 'http://localhost:8080/jwks', WIRE_JWT_ISSUER: 'me', WIRE_JWT_ROLE_CLAIM: 'groups' })).toMatchObject({ roleClaim: 'groups' });
  });

  it('refuse a JWKS over plain http beyond loopback, a missing issuer, and a lone --jwt-* flag', () => {
    expect(() => parse({ jwtJwksUrl: 'http://id.example/jwks.json', jwtIssuer: ISSUER })).toThrow(/--jwt-jwks-url: .* must be https:\/\//);
    expect(() => parse({ jwtJwksUrl: 'not a url', jwtIssuer: ISSUER })).toThrow(/is not a URL/);
    expect(() => parse({ jwtJwksUrl: 'https://id.example/jwks.json' })).toThrow(/--jwt-issuer: is needed with --jwt-jwks-url/);
    expect(() => parse({ jwtIssuer: ISSUER })).toThrow(/--jwt-issuer: goes with --jwt-jwks-url/);
    expect(() => parse({ jwtJwksUrl: 'https://id.example/jwks.json', jwtIssuer: ISSUER, jwtRoleClaim: 'a b' })).toThrow(/--jwt-role-claim: 'a b' is not a claim name/);
  });
});
