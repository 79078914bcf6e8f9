// `wire run` and `wire validate` (the built CLI) load nothing of the node: not its bundle (dist/cli/wire-node.cjs), no
// src/cluster, src/raft, src/api, Fastify.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

const WIRE = fileURLToPath(new URL('../../../bin/wire.js', import.meta.url));
const PROBE = fileURLToPath(new URL('./load-probe.mjs', import.meta.url));
let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function loadedBy(args: (d: string) => string[]): Promise<string[]> {
  dir = await mkdtemp(path.join(os.tmpdir(), 'wire-probe-'));
  const list = path.join(dir, 'loaded.txt');
  await writeFile(path.join(dir, 'p.yaml'), 'name: tiny\nsource:\n  type: generate\n  config: { count: 2 }\nsink:\n  type: file\n  config: { path: out.jsonl }\n');
  await writeFile(list, '');
  await promisify(execFile)(process.execPath, ['--import', PROBE, WIRE, ...args(dir)], { cwd: dir, env: { ...process.env, WIRE_LOAD_PROBE_FILE: list } });
  return (await readFile(list, 'utf8')).split('\n').filter((l) => l !== '');
}

describe('the node stays off the wire run path', () => {
  it.each([
    ['run', (d: string) => ['run', path.join(d, 'p.yaml'), '--data-dir', path.join(d, 'data')]],
    ['validate', (d: string) => ['validate', path.join(d, 'p.yaml')]],
  ])('wire %s loads no cluster, raft, api or fastify module', async (_name, args) => {
    const loaded = await loadedBy(args);
    // The probe saw every kind of loading: bin/wire.js (an ES module), the bundle it compiled, and what `require` loaded.
    expect(loaded.some((u) => u.endsWith('/bin/wire.js'))).toBe(true);
    expect(loaded.some((u) => u.startsWith('script:') && u.endsWith('/dist/cli/wire.cjs'))).toBe(true);
    expect(loaded.some((u) => u.endsWith('/bin/cached-bundle.js'))).toBe(true);
    expect(loaded.filter((u) => /\/(cluster|raft|api)\/|fastify|prom-client|wire-node/.test(u))).toEqual([]);
  });

  it('wire node does load them (the probe sees what it is meant to catch)', async () => {
    const loaded = await loadedBy((d) => ['node', '--data-dir', path.join(d, 'n'), '--raft-addr', 'bad-address']).catch((e: unknown) => e);
    expect(loaded).toBeInstanceOf(Error);
    const list = (await readFile(path.join(dir!, 'loaded.txt'), 'utf8')).split('\n');
    // Its own bundle (Raft, the cluster, the API and Fastify), compiled only for this command.
    expect(list.some((u) => u.startsWith('script:') && u.endsWith('/dist/cli/wire-node.cjs'))).toBe(true);
  });
});
