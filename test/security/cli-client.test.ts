// The CLI client against a real API: a refused file prints its refused field at its line (exit 3, FORBIDDEN), and
// a secret field is "***" in what the CLI prints.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type RunningApi } from '../../src/api/server.js';
import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';
import { fakeHandle, type FakeHandle } from '../api/fake-handle.js';
import { createToken } from '../api/tokens.js';

let handle: FakeHandle;
let api: RunningApi;
let dir: string;
let token: string;

beforeAll(async () => {
  handle = await fakeHandle();
  api = await startApi(handle, { host: '127.0.0.1', port: 0 });
  token = (await createToken(handle)).token;
  dir = await mkdtemp(join(tmpdir(), 'wire-cli-security-'));
});

afterAll(async () => {
  await api.close();
  await handle.close();
  await rm(dir, { recursive: true, force: true });
});

async function wire(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env: { WIRE_SERVER: `http://${api.address}`, WIRE_TOKEN: token }, stderrIsTty: false, columns: undefined };
  const code = await runCli(['node', 'wire', ...args], io);
  return { code, out: out.join(''), err: err.join('') };
}

describe('wire pipeline and the security of the API', () => {
  it('prints a refused file at its line and exits 3 (FORBIDDEN)', async () => {
    const path = join(dir, 'passwd.yaml');
    await writeFile(path, 'name: passwd\nsource:\n  type: file\n  config:\n    path: /etc/passwd\nsink:\n  type: stdout\n');
    const res = await wire(['pipeline', 'create', '-f', path]);
    expect(res.code).toBe(3);
    expect(res.err).toContain(`${path}:5:11 source.config.path: file '/etc/passwd' is refused`);
    expect(res.err).toContain('FORBIDDEN');
  });

  it('never prints a secret field', async () => {
    const path = join(dir, 'hook.yaml');
    await writeFile(path, 'name: hook\nsource:\n  type: generate\n  config: { count: 1 }\nsink:\n  type: http\n  config:\n    url: http://127.0.0.1:9/\n    headers: { authorization: "Bearer cli-literal-secret" }\n');
    expect((await wire(['pipeline', 'create', '-f', path])).code).toBe(0);
    for (const args of [['pipeline', 'get', 'hook', '--json'], ['pipeline', 'get', 'hook'], ['pipeline', 'versions', 'hook', '--json'], ['pipeline', 'list', '--json']]) {
      const res = await wire(args);
      expect(res.code, args.join(' ')).toBe(0);
      expect(res.out + res.err).not.toContain('cli-literal-secret');
    }
    expect(JSON.parse((await wire(['pipeline', 'get', 'hook', '--json'])).out).pipeline.spec.sink.config.headers).toEqual({ authorization: '***' });
  });
});
