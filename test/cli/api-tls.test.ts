// The client commands' TLS options: flags or WIRE_CA/WIRE_CERT/WIRE_KEY, a certificate only with its key, and
// TLS failures told as WireErrors with a code and a hint.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WireError } from '../../src/core/errors.js';
import { apiServer } from '../../src/cli/api-client.js';
import { tlsFailure } from '../../src/cli/api-tls.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wire-api-tls-'));
  for (const name of ['ca.pem', 'other-ca.pem', 'cert.pem', 'key.pem']) await writeFile(join(dir, name), name);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function refusal(fn: () => unknown): WireError {
  try {
    fn();
  } catch (error) {
    return error as WireError;
  }
  throw new Error('no error');
}

describe('the client commands over TLS', () => {
  it('read --ca/--cert/--key, else WIRE_CA/WIRE_CERT/WIRE_KEY, the flag winning', () => {
    const env = { WIRE_SERVER: 'https://h:1', WIRE_CA: join(dir, 'other-ca.pem'), WIRE_CERT: join(dir, 'cert.pem'), WIRE_KEY: join(dir, 'key.pem') };
    const server = apiServer({ ca: join(dir, 'ca.pem') }, env);
    expect(server.url.href).toBe('https://h:1/');
    expect(server.tls?.ca?.toString()).toBe('ca.pem');
    expect(server.tls?.cert?.toString()).toBe('cert.pem');
    expect(server.tls?.key?.toString()).toBe('key.pem');
    expect(apiServer({}, {}).tls).toBeUndefined();
  });

  it('refuse a certificate without its key, and a file that cannot be read, naming the flag', () => {
    const noKey = refusal(() => apiServer({ cert: join(dir, 'cert.pem') }, {}));
    expect([noKey.code, noKey.details.flag]).toEqual(['INVALID_INPUT', '--key']);
    const missing = refusal(() => apiServer({ ca: join(dir, 'nope.pem') }, {}));
    expect([missing.code, missing.details.flag]).toEqual(['INVALID_INPUT', '--ca']);
  });

  it('tell an untrusted server, a refused client certificate and a plain server apart', () => {
    const url = new URL('https://127.0.0.1:4001');
    const failed = (code: string, message: string) => new TypeError('fetch failed', { cause: Object.assign(new Error(message), { code }) });
    const untrusted = tlsFailure(failed('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'), url, undefined)!;
    expect(untrusted.code).toBe('UNAUTHORIZED');
    expect(untrusted.message).toContain('self-signed certificate in certificate chain (give --ca');
    const refused = tlsFailure(failed('ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'alert unknown ca'), url, { cert: Buffer.from('c'), key: Buffer.from('k') })!;
    expect(refused.code).toBe('UNAUTHORIZED');
    expect(refused.message).toContain('--http-ca');
    expect(tlsFailure(failed('ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number'), url, undefined)!.message).toContain('does not speak TLS');
    expect(tlsFailure(failed('ECONNREFUSED', 'connect ECONNREFUSED'), url, undefined)).toBeUndefined();
  });
});
