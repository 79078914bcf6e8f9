// `wire node` hands its security flags to the API it serves: --allow-path, --cors-origin, --http-body-limit, and
// the --jwt-* flags (JWTs of an issuer whose JWKS a test server serves).
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { http, NodeProcesses, until } from '../cluster/node/processes.js';

const nodes = new NodeProcesses();
afterEach(async () => nodes.stopAll());

const fileToStdout = (name: string, file: string) => `name: ${name}\nsource:\n  type: file\n  config:\n    path: ${file}\nsink:\n  type: stdout\n`;

describe('wire node security flags', () => {
  it('confines pipelines to --allow-path, answers only --cors-origin origins, and limits bodies to --http-body-limit', async () => {
    const allowed = path.join(await nodes.dir(), 'in');
    await mkdir(allowed);
    await writeFile(path.join(allowed, 'a.jsonl'), '{}\n');
    const node = await nodes.start('s1', ['--allow-path', allowed, '--cors-origin', 'https://ui.example.com', '--http-body-limit', '2KiB']);
    await until('ready', async () => (await http(node, 'GET', '/readyz')).status === 200);

    const refused = await http(node, 'POST', '/v1/pipelines', fileToStdout('secret', '/etc/passwd'));
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'FORBIDDEN', details: { rule: '--allow-path' } });
    const created = await http(node, 'POST', '/v1/pipelines', fileToStdout('mine', path.join(allowed, 'a.jsonl')));
    expect(created.status).toBe(201);

    const cors = await fetch(`http://${node.http}/v1/cluster`, { headers: { origin: 'https://ui.example.com' } });
    expect(cors.headers.get('access-control-allow-origin')).toBe('https://ui.example.com');
    expect(cors.headers.get('x-content-type-options')).toBe('nosniff');
    const big = await http(node, 'POST', '/v1/pipelines/validate', `# ${'x'.repeat(4096)}\n${fileToStdout('big', path.join(allowed, 'a.jsonl'))}`);
    expect(big.status).toBe(413);
  }, 60_000);

  it('accepts JWTs of the --jwt-issuer whose keys --jwt-jwks-url serves, with the role of their claim', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] });
    const server = createServer((_req, res) => res.end(jwks));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
      const node = await nodes.start('j1', ['--jwt-jwks-url', url, '--jwt-issuer', 'https://id.example', '--jwt-role-claim', 'roles']);
      await until('ready', async () => (await http(node, 'GET', '/readyz')).status === 200);
      const jwt = (roles: string): Promise<string> =>
        new SignJWT({ roles }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuer('https://id.example').setAudience('wire').setSubject('ci').setExpirationTime('5m').sign(privateKey);
      const call = async (method: string, token: string, body?: string): Promise<number> =>
        (await fetch(`http://${node.http}/v1/pipelines`, { method, body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/yaml' } })).status;
      expect(await call('GET', await jwt('viewer'))).toBe(200);
      const pipeline = 'name: by-jwt\nsource:\n  type: generate\n  config: { count: 1 }\nsink:\n  type: drop\n';
      expect(await call('POST', await jwt('viewer'), pipeline)).toBe(403);
      expect(await call('POST', await jwt('operator'), pipeline)).toBe(201);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }, 60_000);
});
