// `--insecure`: a node refuses to listen beyond loopback without TLS and authentication unless told, and then warns.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseSecurityFlags } from '../../src/cli/commands/security-flags.js';
import { checkExposure, isLoopback } from '../../src/security/exposure.js';

const WIRE = fileURLToPath(new URL('../../bin/wire.js', import.meta.url));
const loopback = { http: { host: '127.0.0.1', port: 0 }, raft: { host: '127.0.0.1', port: 0 } };

describe('isLoopback', () => {
  it('knows loopback addresses and nothing else', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '0:0:0:0:0:0:0:1']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '[::]', '10.0.0.1', '192.168.1.2', 'example.com', 'localhost.evil.com', '128.0.0.1']) expect(isLoopback(h), h).toBe(false);
  });
});

describe('checkExposure', () => {
  const listener = (host: string, tls: boolean, authenticated: boolean) => ({ flag: '--http-addr', host, tls, authenticated });

  it('lets loopback listen in plaintext, and a protected listener anywhere', () => {
    expect(checkExposure({ listeners: [listener('127.0.0.1', false, false)], insecure: false })).toBeUndefined();
    expect(checkExposure({ listeners: [listener('0.0.0.0', true, true)], insecure: false })).toBeUndefined();
  });

  it('refuses a listener beyond loopback without TLS or without authentication, naming what is missing', () => {
    expect(() => checkExposure({ listeners: [listener('0.0.0.0', false, true)], insecure: false })).toThrow(/--http-addr 0.0.0.0 \(no TLS\).*--insecure/);
    expect(() => checkExposure({ listeners: [listener('10.0.0.1', true, false)], insecure: false })).toThrow(/no authentication/);
  });

  it('with --insecure, lets it through and returns the warning', () => {
    expect(checkExposure({ listeners: [listener('0.0.0.0', false, false)], insecure: true })).toMatch(/^--insecure: .*0\.0\.0\.0/);
  });
});

describe('parseSecurityFlags', () => {
  it('reads the node port too, and WIRE_INSECURE', () => {
    const exposed = { ...loopback, raft: { host: '10.1.2.3', port: 4002 } };
    expect(() => parseSecurityFlags({}, {}, exposed)).toThrow(/--raft-addr 10.1.2.3/);
    expect(parseSecurityFlags({}, { WIRE_INSECURE: 'true' }, exposed).insecureWarning).toContain('--raft-addr');
    // mTLS on the node port (certificate and CA) protects it.
    expect(parseSecurityFlags({ nodeCert: 'n.crt', nodeCa: 'ca.crt' }, {}, exposed).insecureWarning).toBeUndefined();
  });

  it('reads lists from flags or comma-separated variables, and the body limit with a unit', () => {
    const flags = parseSecurityFlags({ corsOrigin: ['https://a.example'] }, { WIRE_ALLOW_HOST: 'a.example, *.b.example', WIRE_HTTP_BODY_LIMIT: '4MiB' }, loopback);
    expect(flags.confinement.hosts).toEqual(['a.example', '*.b.example']);
    expect(flags.corsOrigins).toEqual(['https://a.example']);
    expect(flags.bodyLimit).toBe(4 << 20);
    expect(() => parseSecurityFlags({ httpBodyLimit: '12' }, {}, loopback)).toThrow(/--http-body-limit/);
  });
});

describe('wire node beyond loopback', () => {
  const run = (args: string[]) => {
    const child = spawn(process.execPath, [WIRE, 'node', '--node-id', 'x1', '--raft-addr', '127.0.0.1:0', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WIRE_INSECURE: '', WIRE_HTTP_ADDR: '', WIRE_RAFT_ADDR: '' },
    });
    let err = '';
    let out = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('{"ready"')) child.kill('SIGTERM');
    });
    return new Promise<{ code: number | null; err: string; out: string }>((resolve) => child.once('exit', (code) => resolve({ code, err, out })));
  };

  it('exits 2 naming --insecure and writes nothing without it; starts and warns with it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'wire-insecure-'));
    try {
      const dataDir = path.join(dir, 'data');
      const wide = ['--data-dir', dataDir, '--http-addr', '0.0.0.0:0', '--http-adv-addr', '127.0.0.1:1'];
      const refused = await run(wide);
      expect(refused.code).toBe(2);
      expect(refused.err).toContain('--insecure');
      expect(existsSync(dataDir)).toBe(false);
      const allowed = await run([...wide, '--insecure']);
      // Ready (and then stopped by the test's SIGTERM, which may come before its handlers are installed).
      expect(allowed.out).toContain('{"ready"');
      expect(allowed.err).toMatch(/--insecure: listening beyond loopback/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
