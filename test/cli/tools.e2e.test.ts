import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, exists, makeTempDir, ROOT, runWire } from './harness.js';

const GENERATE = (name: string, count = 3): string =>
  `name: ${name}\nsource: { type: generate, config: { count: ${count}, record: { i: "i" } } }\nsink: { type: stdout, config: {} }\n`;

const servers: Server[] = [];

async function listening(): Promise<number> {
  const server = createServer((socket) => socket.destroy());
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

/** A port nothing listens on: one the OS gave and took back. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  await cleanup();
});

describe('wire eval', () => {
  it('prints the value of the expression for each JSON record on stdin, one JSON line each', async () => {
    const input = '{"user":"ada","amount":120}\n\n{"user":"bob","amount":5}\n';
    const result = await runWire(['eval', 'concat(upper(user), ":", amount * 2)'], { cwd: ROOT, input });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('"ADA:240"\n"BOB:10"\n');
    expect(result.stderr).toBe('');
  });

  it('names the line of each record that fails, goes on with the others, and exits 2', async () => {
    const input = '{"amount":1}\n{"amount":"x"}\n{oops\n{"amount":3}\n';
    const result = await runWire(['eval', 'amount + 1'], { cwd: ROOT, input });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('2\n4\n');
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^line 2: '\+' needs .* at column 8$/);
    expect(lines[1]).toMatch(/^line 3: not JSON: /);
    expect(lines[2]).toBe('wire: INVALID_INPUT: 2 of 4 records failed');
  });

  it('points at the column of an expression that does not compile and exits 2', async () => {
    const result = await runWire(['eval', 'amount >> 2'], { cwd: ROOT, input: '{}\n' });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe("wire: INVALID_INPUT: expression: unexpected token '>' at column 9\n  amount >> 2\n          ^\n");
  });
});

describe('wire run - and --pipeline', () => {
  it('runs a pipeline file read from stdin', async () => {
    const dir = await makeTempDir();
    const result = await runWire(['run', '-'], { cwd: dir, input: GENERATE('piped') });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('{"i":0}\n{"i":1}\n{"i":2}\n');
    expect(result.stderr).toMatch(/^piped: completed: 3 in, 3 out/m);
  });

  it('reports the problems of a pipeline file on stdin as <stdin>:line:column', async () => {
    const result = await runWire(['run', '-'], { cwd: await makeTempDir(), input: GENERATE('bad').replace('count: 3', 'count: "x"') });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^<stdin>:2:\d+ source\.config\.count: must be an integer, not string$/m);
  });

  it('names a pipeline file on stdin <stdin> in its closing error too, for run and validate (--json too)', async () => {
    const input = GENERATE('bad').replace('count: 3', 'count: "x"');
    const run = await runWire(['run', '-'], { cwd: await makeTempDir(), input });
    expect(run.stderr).toContain('wire: INVALID_INPUT: <stdin>: 1 problem; nothing was run\n');
    const validate = await runWire(['validate', '-'], { cwd: await makeTempDir(), input });
    expect(validate.code).toBe(2);
    expect(validate.stderr).toContain('wire: INVALID_INPUT: <stdin>: 1 problem\n');
    const json = await runWire(['validate', '-', '--json'], { cwd: await makeTempDir(), input });
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: false, file: '<stdin>' });
    const ok = await runWire(['validate', '-'], { cwd: await makeTempDir(), input: GENERATE('good') });
    expect(ok.stdout).toBe('OK: <stdin>: 1 pipeline (good)\n');
  });

  it('refuses a stdin source when the pipeline file itself came from stdin', async () => {
    const text = 'name: s\nsource: { type: stdin, config: {} }\nsink: { type: stdout, config: {} }\n';
    const result = await runWire(['run', '-'], { cwd: await makeTempDir(), input: text });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('pipeline s reads stdin, but the pipeline file came from stdin');
  });

  it('--pipeline runs only the pipeline named, of several', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'two.yaml');
    const indent = (text: string): string => '  - ' + text.trimEnd().replace(/\n/g, '\n    ') + '\n';
    await writeFile(file, 'pipelines:\n' + indent(GENERATE('first', 2)) + indent(GENERATE('second', 4)));
    const result = await runWire(['run', file, '--pipeline', 'second', '--data-dir', join(dir, 'data')], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(4);
    expect(result.stderr).toMatch(/^second: completed: 4 in, 4 out/m);
    expect(result.stderr).not.toContain('first');
  });

  it('--pipeline with a name the file does not define exits 4 and runs nothing, one pipeline or several', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'one.yaml');
    await writeFile(file, GENERATE('only'));
    const result = await runWire(['run', file, '--pipeline', 'onyl', '--data-dir', join(dir, 'data')], { cwd: dir });
    expect(result.code).toBe(4);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')[0]).toBe(`wire: NOT_FOUND: ${file} has no pipeline named 'onyl' (it has only)`);
    expect(exists(join(dir, 'data'))).toBe(false);
  });
});

describe('wire validate --json', () => {
  it('prints the problems as one JSON object with file, line, column, path, code and message; exit 2 as without --json', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'bad.yaml');
    await writeFile(file, GENERATE('bad').replace('count: 3', 'count: "x"').replace('type: stdout', 'type: stdot'));
    const result = await runWire(['validate', '--json', file], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual({
      valid: false,
      file,
      problems: [
        { file, line: 2, column: 44, path: 'source.config.count', code: 'INVALID_INPUT', message: 'must be an integer, not string' },
        { file, line: 3, column: 15, path: 'sink.type', code: 'INVALID_INPUT', message: "unknown sink type 'stdot' (did you mean 'stdout'?)" },
      ],
    });
  });

  it('prints valid and the pipelines of a good file (exit 0), and the error of a missing one (exit 4)', async () => {
    const good = await runWire(['validate', '--json', 'examples/parallel.yaml'], { cwd: ROOT });
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual({ valid: true, file: 'examples/parallel.yaml', pipelines: ['big-orders', 'orders-by-user'] });
    const missing = await runWire(['validate', '--json', 'nope.yaml'], { cwd: ROOT });
    expect(missing.code).toBe(4);
    expect(JSON.parse(missing.stdout)).toMatchObject({ valid: false, file: 'nope.yaml', problems: [], error: { code: 'NOT_FOUND' } });
  });
});

describe('wire run --dry-run', () => {
  it('checks inputs, js modules, sinks and the data dir, and reads and writes nothing', async () => {
    const dir = await makeTempDir();
    const port = await listening();
    await writeFile(join(dir, 'in.jsonl'), '{"a":1}\n');
    await writeFile(join(dir, 'enrich.mjs'), 'export function enrich(v) { return v; }\n');
    await writeFile(
      join(dir, 'p.yaml'),
      `pipelines:
  - name: to-file
    source: { type: file, config: { path: ./in.jsonl } }
    transforms: [{ type: js, config: { module: ./enrich.mjs, function: enrich } }]
    sink: { type: file, config: { path: ./out/deep/out.jsonl } }
  - name: to-http
    source: { type: file, config: { path: ./in.jsonl } }
    sink: { type: http, config: { url: "http://127.0.0.1:${port}/ingest" } }
`,
    );
    const result = await runWire(['run', 'p.yaml', '--dry-run'], { cwd: dir });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('ok   to-file source (file): ./in.jsonl is there (8 bytes)\n');
    expect(result.stdout).toContain(`ok   to-file transforms[0] (js): ${join(dir, 'enrich.mjs')} exports function enrich\n`);
    expect(result.stdout).toContain(`ok   to-file sink (file): ./out/deep will be created in ${dir}, which is writable\n`);
    expect(result.stdout).toContain(`ok   to-http sink (http): 127.0.0.1:${port} accepts connections\n`);
    expect(result.stderr).toBe('');
    for (const made of ['out', '.wire']) expect(exists(join(dir, made)), made).toBe(false);
  });

  it('a checkpoint the run would refuse fails the dry run: output deleted, another source; --from-start passes', async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'in.jsonl'), '{"a":1}\n{"a":2}\n');
    const pipeline = (count: string) =>
      `name: p\nsource: { type: file, config: { path: ./${count} } }\nsink: { type: file, config: { path: ./out/o.jsonl } }\n`;
    await writeFile(join(dir, 'p.yaml'), pipeline('in.jsonl'));
    expect((await runWire(['run', 'p.yaml'], { cwd: dir })).code).toBe(0);

    const resumes = await runWire(['run', 'p.yaml', '--dry-run'], { cwd: dir });
    expect(resumes.code, resumes.stdout + resumes.stderr).toBe(0);
    expect(resumes.stdout).toContain('ok   p checkpoint (checkpoint): the run resumes from ./in.jsonl at byte 16\n');

    await rm(join(dir, 'out'), { recursive: true });
    const deleted = await runWire(['run', 'p.yaml', '--dry-run'], { cwd: dir });
    expect(deleted.code, deleted.stdout + deleted.stderr).toBe(5);
    expect(deleted.stdout).toContain('FAIL p checkpoint (checkpoint): ./out/o.jsonl holds 0 bytes but the checkpoint of p says 16 were written');
    expect((await runWire(['run', 'p.yaml'], { cwd: dir })).code).toBe(5);
    const fresh = await runWire(['run', 'p.yaml', '--dry-run', '--from-start'], { cwd: dir });
    expect(fresh.code, fresh.stdout + fresh.stderr).toBe(0);

    await writeFile(join(dir, 'other.jsonl'), '{"a":3}\n');
    await writeFile(join(dir, 'p.yaml'), pipeline('other.jsonl'));
    const other = await runWire(['run', 'p.yaml', '--dry-run', '--json'], { cwd: dir });
    expect(other.code, other.stdout + other.stderr).toBe(5);
    const last = JSON.parse(other.stdout.trim().split('\n').at(-1)!) as unknown;
    expect(last).toMatchObject({ component: 'checkpoint', ok: false, error: { code: 'CONFLICT' } });
  });

  it('reports each problem, runs nothing, and exits with the first problem\'s code', async () => {
    const dir = await makeTempDir();
    const port = await closedPort();
    await writeFile(join(dir, 'enrich.mjs'), 'export function enrich(v) { return v; }\n');
    await mkdir(join(dir, 'data'));
    await writeFile(join(dir, 'afile'), '');
    await writeFile(
      join(dir, 'p.yaml'),
      `name: broken
source: { type: file, config: { path: ./typo-input.jsonl } }
transforms: [{ type: js, config: { module: ./enrich.mjs, function: enrihc } }]
sink: { type: http, config: { url: "http://127.0.0.1:${port}/x" } }
dead_letter: { type: file, config: { path: ./afile/dlq.jsonl } }
`,
    );
    const result = await runWire(['run', 'p.yaml', '--dry-run', '--data-dir', 'data'], { cwd: dir });
    expect(result.code).toBe(4);
    expect(result.stdout).toContain('ok   data_dir: data is writable\n');
    expect(result.stdout).toContain('FAIL broken source (file): ./typo-input.jsonl does not exist\n');
    expect(result.stdout).toContain(`FAIL broken transforms[0] (js): ${join(dir, 'enrich.mjs')} has no exported function 'enrihc' (it exports enrich)\n`);
    expect(result.stdout).toMatch(new RegExp(`^FAIL broken sink \\(http\\): cannot connect to 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`, 'm'));
    expect(result.stdout).toContain(`FAIL broken dead_letter (file): ${join(dir, 'afile')} is not a directory\n`);
    expect(result.stdout).toContain('ok   broken checkpoint (checkpoint): none in data: the run reads its source from the start\n');
    expect(result.stderr).toBe('wire: NOT_FOUND: dry run: 4 of 6 checks failed; nothing was run\n');
    const json = await runWire(['run', 'p.yaml', '--dry-run', '--json', '--data-dir', 'data'], { cwd: dir });
    expect(json.code).toBe(4);
    const checks = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; ok: boolean; error?: { code: string } });
    expect(checks.map((c) => c.ok)).toEqual([true, false, false, false, false, true]);
    expect(checks[1]).toMatchObject({ type: 'check', pipeline: 'broken', component: 'source', component_type: 'file', error: { code: 'NOT_FOUND' } });
    expect(JSON.parse(json.stderr)).toMatchObject({ type: 'error', error: { code: 'NOT_FOUND' } });
  });
});
