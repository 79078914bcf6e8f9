// `wire node`'s TLS flags and files: every combination that cannot work is refused by flag at start-up, and a
// file that cannot serve (wrong CA, another node's id, a key of another certificate) is refused before it is used.
import { afterAll, describe, expect, it } from 'vitest';
import { WireError } from '../../src/core/errors.js';
import { parseTlsFlags, readHttpTls, readNodeTls, type TlsConfig, type TlsFlagValues } from '../../src/security/tls-config.js';
import { reloadTls } from '../../src/security/tls-reload.js';
import { parseSecurityFlags } from '../../src/cli/commands/security-flags.js';
import { TestPki, serialOf } from './pki.js';

const pki = new TestPki();
afterAll(() => pki.dispose());

function flagOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(WireError);
    expect((error as WireError).code).toBe('INVALID_INPUT');
    return (error as WireError).details.flag as string;
  }
  return undefined;
}

async function rejection(p: Promise<unknown>): Promise<WireError> {
  const error = await p.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(WireError);
  return error as WireError;
}

const flags = (v: Partial<TlsFlagValues>): TlsFlagValues => ({ 'http-verify-client': false, ...v });

describe('TLS flags', () => {
  it('default to no TLS, TLS 1.3 at least', () => {
    expect(parseTlsFlags(flags({}))).toEqual({ minVersion: 'TLSv1.3' });
    expect(parseTlsFlags(flags({ 'tls-min-version': '1.2' })).minVersion).toBe('TLSv1.2');
  });

  it('refuse combinations that cannot work, naming the flag', () => {
    expect(flagOf(() => parseTlsFlags(flags({ 'tls-min-version': '1.1' })))).toBe('--tls-min-version');
    expect(flagOf(() => parseTlsFlags(flags({ 'http-cert': 'c' })))).toBe('--http-key');
    expect(flagOf(() => parseTlsFlags(flags({ 'http-key': 'k' })))).toBe('--http-cert');
    expect(flagOf(() => parseTlsFlags(flags({ 'http-ca': 'ca' })))).toBe('--http-ca');
    expect(flagOf(() => parseTlsFlags(flags({ 'http-cert': 'c', 'http-key': 'k', 'http-verify-client': true })))).toBe('--http-verify-client');
    expect(flagOf(() => parseTlsFlags(flags({ 'node-cert': 'c', 'node-key': 'k' })))).toBe('--node-ca');
    expect(flagOf(() => parseTlsFlags(flags({ 'node-ca': 'ca' })))).toBe('--node-ca');
  });
});

describe('TLS files', () => {
  async function nodeConfig(certFor: string, certCa: string, trustCa: string): Promise<TlsConfig> {
    const cert = await pki.node(certFor, certCa);
    return {
      minVersion: 'TLSv1.3',
      node: { cert: await pki.file(`${certFor}-${certCa}.crt`, cert.cert), key: await pki.file(`${certFor}-${certCa}.key`, cert.key), ca: await pki.file(`${trustCa}.crt`, (await pki.ca(trustCa)).cert) },
    };
  }

  it('give the node port mutual TLS options that require client certificates', async () => {
    const tls = await readNodeTls(await nodeConfig('n1', 'cluster', 'cluster'), 'n1');
    expect(tls?.server).toMatchObject({ requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3', handshakeTimeout: 10_000 });
    expect(tls?.client).toMatchObject({ rejectUnauthorized: true, minVersion: 'TLSv1.3' });
  });

  it('refuse a node certificate for another node id', async () => {
    const error = await rejection(readNodeTls(await nodeConfig('n2', 'cluster', 'cluster'), 'n1'));
    expect(error.details.flag).toBe('--node-cert');
    expect(error.message).toContain('wire-node:n1');
  });

  it('refuse a node certificate the cluster CA did not issue', async () => {
    const error = await rejection(readNodeTls(await nodeConfig('n1', 'rogue', 'cluster'), 'n1'));
    expect(error.details.flag).toBe('--node-cert');
    expect(error.message).toContain('not issued by the CA');
  });

  it("refuse a key that is not the certificate's, and a file that is missing or not PEM", async () => {
    const config = await nodeConfig('n1', 'cluster', 'cluster');
    const other = await pki.node('n1', 'cluster');
    const wrongKey = { ...config, node: { ...config.node!, key: await pki.file('other.key', other.key) } };
    expect((await rejection(readNodeTls(wrongKey, 'n1'))).details.flag).toBe('--node-key');
    const missing = { ...config, node: { ...config.node!, ca: '/nonexistent/ca.crt' } };
    expect((await rejection(readNodeTls(missing, 'n1'))).details.flag).toBe('--node-ca');
    const garbage = { ...config, node: { ...config.node!, cert: await pki.file('garbage.crt', 'not a certificate') } };
    expect((await rejection(readNodeTls(garbage, 'n1'))).details.flag).toBe('--node-cert');
  });

  it('accept an HTTP certificate from any CA, and ask for client certificates only with --http-verify-client', async () => {
    const server = await pki.node('n1', 'public');
    const http = { cert: await pki.file('http.crt', server.cert), key: await pki.file('http.key', server.key), ca: await pki.file('clients.crt', (await pki.ca('clients')).cert) };
    expect(await readHttpTls({ minVersion: 'TLSv1.2', http: { ...http, verifyClient: true } })).toMatchObject({ requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' });
    expect(await readHttpTls({ minVersion: 'TLSv1.3', http: { ...http, verifyClient: false } })).toMatchObject({ requestCert: false, rejectUnauthorized: false });
  });

  it('reload applies nothing when one file is bad, and the new certificates when all are good', async () => {
    const good = await nodeConfig('n1', 'cluster', 'cluster');
    const applied: string[] = [];
    const targets = { node: { reloadTls: (t: { server: { cert?: unknown } }) => void applied.push(serialOf(t.server.cert as Buffer)) }, http: { reloadTls: () => void applied.push('http') } };
    const badHttp: TlsConfig = { ...good, http: { cert: '/nonexistent.crt', key: '/nonexistent.key', verifyClient: false } };
    await rejection(reloadTls(badHttp, 'n1', targets));
    expect(applied).toEqual([]);
    await reloadTls(good, 'n1', targets);
    expect(applied).toHaveLength(1);
  });
});

describe('the exposure rule and TLS', () => {
  const everywhere = { http: { host: '0.0.0.0', port: 4001 }, raft: { host: '0.0.0.0', port: 4002 } };
  const tls = { httpCert: 'c', nodeCert: 'c', nodeCa: 'ca' };

  it('counts client certificates on the API (--http-verify-client) as authentication beyond loopback', () => {
    expect(parseSecurityFlags({ ...tls, httpVerifyClient: true }, {}, everywhere).insecureWarning).toBeUndefined();
    expect(parseSecurityFlags({ ...tls }, { WIRE_HTTP_VERIFY_CLIENT: 'true' }, everywhere).insecureWarning).toBeUndefined();
  });

  it('takes TLS alone on the API beyond loopback (every call presents a token), but not a node port without its CA', () => {
    expect(parseSecurityFlags({ ...tls }, {}, everywhere).insecureWarning).toBeUndefined();
    expect(flagOf(() => parseSecurityFlags({ httpCert: 'c', nodeCert: 'c' }, {}, everywhere))).toBe('--insecure');
  });
});
