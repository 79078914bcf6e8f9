// `wire certs init | issue`: a CA and node/client certificates that Node's TLS accepts, keys 0600, nothing overwritten.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { certsCommand, type CertsIssueOptions } from '../../src/cli/commands/certs.js';
import type { CliIo } from '../../src/cli/io.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function io(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {}, stderrIsTty: false, columns: undefined };
}

async function certsDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'wire-certs-'));
  dirs.push(d);
  return join(d, 'certs');
}

const init = (dir: string, io: CliIo, force = false) => certsCommand({ action: 'init', options: { dir, days: '30', name: 'Test CA', force } }, io);
const issue = (dir: string, io: CliIo, o: Partial<CertsIssueOptions>) => certsCommand({ action: 'issue', options: { dir, days: '30', dns: [], ip: [], force: false, ...o } }, io);
const mode = async (path: string) => (await stat(path)).mode & 0o777;

describe('wire certs', () => {
  it('init writes a CA certificate (0644) and its key (0600) in a directory it makes 0700', async () => {
    const dir = await certsDir();
    expect(await init(dir, io())).toBe(0);
    expect(await mode(dir)).toBe(0o700);
    expect(await mode(join(dir, 'ca.key'))).toBe(0o600);
    expect(await mode(join(dir, 'ca.crt'))).toBe(0o644);
    const ca = new X509Certificate(await readFile(join(dir, 'ca.crt')));
    expect(ca.ca).toBe(true);
    expect(ca.subject).toBe('CN=Test CA');
    expect(ca.checkPrivateKey(createPrivateKey(await readFile(join(dir, 'ca.key'))))).toBe(true);
  });

  it('issues a node certificate naming wire-node:ID, localhost and 127.0.0.1, signed by the CA, for server and client use', async () => {
    const dir = await certsDir();
    await init(dir, io());
    expect(await issue(dir, io(), { node: 'n1' })).toBe(0);
    const ca = new X509Certificate(await readFile(join(dir, 'ca.crt')));
    const cert = new X509Certificate(await readFile(join(dir, 'node-n1.crt')));
    expect(await mode(join(dir, 'node-n1.key'))).toBe(0o600);
    expect(cert.subjectAltName).toBe('URI:wire-node:n1, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(cert.checkIssued(ca) && cert.verify(ca.publicKey)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(cert.checkPrivateKey(createPrivateKey(await readFile(join(dir, 'node-n1.key'))))).toBe(true);
  });

  it('puts exactly the --dns and --ip names given (repeated or comma-separated) beside the node name', async () => {
    const dir = await certsDir();
    await init(dir, io());
    await issue(dir, io(), { node: 'n2', dns: ['wire-2.example.com,wire-2'], ip: ['10.0.0.2', '::1'] });
    const cert = new X509Certificate(await readFile(join(dir, 'node-n2.crt')));
    expect(cert.subjectAltName).toBe('URI:wire-node:n2, DNS:wire-2.example.com, DNS:wire-2, IP Address:10.0.0.2, IP Address:0:0:0:0:0:0:0:1');
  });

  it('issues a client certificate for client use only, naming no node', async () => {
    const dir = await certsDir();
    await init(dir, io());
    expect(await issue(dir, io(), { client: 'admin' })).toBe(0);
    const cert = new X509Certificate(await readFile(join(dir, 'client-admin.crt')));
    expect(cert.subject).toBe('CN=admin');
    expect(cert.subjectAltName).toBeUndefined();
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(await mode(join(dir, 'client-admin.key'))).toBe(0o600);
  });

  it('refuses to overwrite a key or certificate without --force, and replaces both with it', async () => {
    const dir = await certsDir();
    await init(dir, io());
    const before = await readFile(join(dir, 'ca.key'), 'utf8');
    const again = io();
    expect(await init(dir, again)).toBe(5);
    expect(again.err.join('')).toContain('CONFLICT');
    expect(await readFile(join(dir, 'ca.key'), 'utf8')).toBe(before);
    expect(await init(dir, io(), true)).toBe(0);
    expect(await readFile(join(dir, 'ca.key'), 'utf8')).not.toBe(before);
  });

  it('writes a replaced key 0600 even when the old file was readable by others', async () => {
    const dir = await certsDir();
    await init(dir, io());
    await writeFile(join(dir, 'node-n1.key'), 'old', { mode: 0o644 });
    expect(await issue(dir, io(), { node: 'n1', force: true })).toBe(0);
    expect(await mode(join(dir, 'node-n1.key'))).toBe(0o600);
  });

  it('says to run init when there is no CA, and refuses bad names and addresses', async () => {
    const dir = await certsDir();
    const noCa = io();
    expect(await issue(dir, noCa, { node: 'n1' })).toBe(4);
    expect(noCa.err.join('')).toContain('wire certs init');
    await init(dir, io());
    for (const bad of [{ node: 'n/1' }, { node: 'n1', ip: ['10.0.0.300'] }, { node: 'n1', dns: ['a b'] }, {}, { node: 'n1', client: 'c' }, { node: 'n1', days: '0' }]) {
      const out = io();
      expect(await issue(dir, out, bad)).toBe(2);
      expect(out.err.join('')).toContain('INVALID_INPUT');
    }
  });
});
