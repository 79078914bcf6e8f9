import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/program.js';
import { cleanup, makeTempDir, runWire } from './harness.js';

// `--env-file`, `${file:…}` and numbers from the environment in flow YAML, as a user runs them.
const PIPELINE = 'name: gen\nsource: { type: generate, config: { count: ${N} } }\ntransforms: [{ type: map, config: { set: { tag: "\\"${TAG}\\"" } } }]\nsink: { type: file, config: { path: ${file:out-name} } }\n';

async function setUp(): Promise<string> {
  const dir = await makeTempDir();
  await writeFile(join(dir, 'p.yaml'), PIPELINE);
  await writeFile(join(dir, 'vars.env'), '# settings\nN=3\nTAG="from file"\n');
  await writeFile(join(dir, 'out-name'), 'out.jsonl\n');
  return dir;
}

describe('--env-file and ${file:…}', () => {
  afterEach(cleanup);

  it('wire run takes ${VAR}s from the env file, a number in { } included, and the sink path from a file', async () => {
    const dir = await setUp();
    const result = await runWire(['run', 'p.yaml', '--env-file', 'vars.env'], { cwd: dir, env: { TAG: undefined, N: undefined } });
    expect(result.code, result.stderr).toBe(0);
    const out = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { tag: string });
    expect(out).toHaveLength(3);
    expect(out.every((r) => r.tag === 'from file')).toBe(true);
  });

  it('a variable set in the environment wins over the env file', async () => {
    const dir = await setUp();
    const result = await runWire(['run', 'p.yaml', '--env-file', 'vars.env'], { cwd: dir, env: { N: '2', TAG: 'from env' } });
    expect(result.code, result.stderr).toBe(0);
    const out = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { tag: string });
    expect(out.map((r) => r.tag)).toEqual(['from env', 'from env']);
  });

  it('wire validate takes --env-file too; without it the variables are missing', async () => {
    const dir = await setUp();
    const ok = await runWire(['validate', 'p.yaml', '--env-file', 'vars.env'], { cwd: dir, env: { N: undefined, TAG: undefined } });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toBe('OK: p.yaml: 1 pipeline (gen)\n');
    const missing = await runWire(['validate', 'p.yaml'], { cwd: dir, env: { N: undefined, TAG: undefined } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("p.yaml:2:44 source.config.count: environment variable 'N' is not set");
  });

  it('a missing env file is NOT_FOUND (exit 4)', async () => {
    const dir = await setUp();
    const err: string[] = [];
    const io = { stdout: () => undefined, stderr: (t: string) => void err.push(t), env: {}, stderrIsTty: false, columns: undefined };
    const missing = join(dir, 'nope.env');
    expect(await runCli(['node', 'wire', 'validate', join(dir, 'p.yaml'), '--env-file', missing], io)).toBe(4);
    expect(err.join('')).toMatch(new RegExp(`^wire: NOT_FOUND: env file not found: ${missing}\n`));
    // Node itself looks for a file after --env-file, even among a script's arguments, and ends the process
    // before Wire starts when there is none (docs/cli.md says so): either way the run stops and names the file.
    const spawned = await runWire(['validate', 'p.yaml', '--env-file', 'nope.env'], { cwd: dir });
    expect(spawned.code).not.toBe(0);
    expect(spawned.stderr).toContain('nope.env');
  });

  it('a missing secret file is a problem at its place (exit 2)', async () => {
    const dir = await setUp();
    await writeFile(join(dir, 'p.yaml'), PIPELINE.replace('out-name', 'gone'));
    const noSecret = await runWire(['validate', 'p.yaml', '--env-file', 'vars.env'], { cwd: dir });
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toContain("p.yaml:4:37 sink.config.path: cannot read secret file 'gone': no such file");
  });

  it('wire run never prints a value read from a secret file: not in errors, not in log lines', async () => {
    const dir = await setUp();
    await writeFile(join(dir, 'source-path'), `${join(dir, 'hunter2-missing.jsonl')}\n`);
    await writeFile(join(dir, 'r.yaml'), 'name: r\nsource: { type: file, config: { path: ${file:source-path} } }\nsink: { type: drop }\n');
    const result = await runWire(['run', 'r.yaml', '--log-level', 'info'], { cwd: dir });
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('wire: NOT_FOUND: file source: no file matches [secret]');
    expect(result.stderr).toMatch(/"level":50.*no file matches \[secret\]/);
    expect(result.stderr).not.toContain('hunter2');
  });
});
