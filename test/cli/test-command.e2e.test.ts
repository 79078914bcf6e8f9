import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, ROOT, runWire } from './harness.js';

const CLOCK_PIPELINE = `name: stamp
source: { type: stdin, config: {} }
transforms:
  - type: map
    config: { set: { at: "now()", double: "n * 2" } }
sink: { type: stdout, config: {} }
dead_letter: { type: file, config: { path: ./dlq.jsonl } }
workers: 2
`;

async function write(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
}

describe('wire test', () => {
  afterEach(cleanup);

  it('runs the tests of every example and exits 0 (npm test runs `wire test examples/`)', async () => {
    const result = await runWire(['test', 'examples/'], { cwd: ROOT, timeoutMs: 60_000 });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const pipelines = (await readdir(join(ROOT, 'examples'))).filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'));
    for (const file of pipelines) expect(result.stdout).toContain(`ok   examples/${file.replace('.yaml', '.test.yaml')}\n`);
    expect(result.stdout).toMatch(/^\d+ tests: (\d+) passed, 0 failed \(\d+ files\)$/m);
    expect(result.stderr).toBe('');
  });

  it('every pipeline file in examples/ ships with its tests', async () => {
    const names = await readdir(join(ROOT, 'examples'));
    const pipelines = names.filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'));
    expect(pipelines.length).toBeGreaterThan(0);
    for (const file of pipelines) expect(names, file).toContain(file.replace('.yaml', '.test.yaml'));
  });

  it('fixes the clock: now() is the test file\'s clock, or 2024-01-01T00:00:00Z by default, with workers: 2 too', async () => {
    const dir = await makeTempDir();
    await write(dir, {
      'stamp.yaml': CLOCK_PIPELINE,
      'stamp.test.yaml': `clock: "2024-05-01T12:00:00Z"
tests:
  - name: stamps the time of the test's clock
    input: [{ n: 1 }]
    output: [{ n: 1, at: ${Date.parse('2024-05-01T12:00:00Z')}, double: 2 }]
`,
      'default.test.yaml': `pipeline_file: stamp.yaml
tests:
  - name: stamps the default clock
    input: [{ n: 2 }]
    output: [{ n: 2, at: ${Date.parse('2024-01-01T00:00:00Z')}, double: 4 }]
`,
    });
    const result = await runWire(['test', '.'], { cwd: dir });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('2 tests: 2 passed, 0 failed (2 files)');
  });

  it("reads ${VAR} from the test file's env, over the environment", async () => {
    const dir = await makeTempDir();
    await write(dir, {
      'scale.yaml': CLOCK_PIPELINE.replace('double: "n * 2"', 'double: "n * ${FACTOR}"').replace('name: stamp', 'name: scale'),
      'scale.test.yaml': `env: { FACTOR: "10" }
tests:
  - name: multiplies by the factor the test sets
    input: [{ n: 2 }]
    output: [{ n: 2, at: 1704067200000, double: 20 }]
`,
    });
    const result = await runWire(['test', 'scale.test.yaml'], { cwd: dir, env: { FACTOR: '3' } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });

  it('runs a js transform, its module relative to the pipeline file, and dead-letters what it throws on', async () => {
    const dir = await makeTempDir();
    await mkdir(join(dir, 'pipelines'));
    await write(dir, {
      'pipelines/enrich.mjs': 'export function enrich(v) { if (v.n < 0) throw new Error("negative n"); return { ...v, tag: "n" + v.n }; }\n',
      'pipelines/js.yaml': `name: js
source: { type: stdin, config: {} }
transforms: [{ type: js, config: { module: ./enrich.mjs, function: enrich } }]
sink: { type: stdout, config: {} }
dead_letter: { type: stdout, config: {} }
`,
      'pipelines/js.test.yaml': `tests:
  - name: tags each record; a negative one goes to the dead letter
    input: [{ n: 1 }, { n: -1 }, { n: 2 }]
    output: [{ n: 1, tag: n1 }, { n: 2, tag: n2 }]
    dead_letters: [{ stage: transforms.0, error: negative n, record: { n: -1 } }]
`,
    });
    const result = await runWire(['test'], { cwd: dir });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('ok   pipelines/js.test.yaml\n');
  });

  it('does not wait for a rate limit: time passes only in the test', async () => {
    const dir = await makeTempDir();
    await write(dir, {
      // One record per 1,000 s: three records would take over half an hour on the real clock.
      'slow.yaml': CLOCK_PIPELINE.replace('name: stamp', 'name: slow') + 'rate_limit: 0.001\nbatch_size: 1\n',
      'slow.test.yaml': `tests:
  - name: three records through a rate limit
    input: [{ n: 1 }, { n: 2 }, { n: 3 }]
    output:
      - { n: 1, at: 1704067200000, double: 2 }
      - { n: 2, at: 1704067200000, double: 4 }
      - { n: 3, at: 1704067200000, double: 6 }
`,
    });
    const result = await runWire(['test', 'slow.test.yaml'], { cwd: dir, timeoutMs: 60_000 });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain('1 test: 1 passed, 0 failed (1 file)');
  });

  it('prints a diff of output and dead letters on a mismatch and exits 2', async () => {
    const dir = await makeTempDir();
    await write(dir, {
      'stamp.yaml': CLOCK_PIPELINE,
      'stamp.test.yaml': `tests:
  - name: expects the wrong double
    input_lines: ['{"n": 1}', '{"n": 2', '{"n": 3}']
    output:
      - { n: 1, at: 1704067200000, double: 2 }
      - { n: 3, at: 1704067200000, double: 7 }
    dead_letters:
      - { stage: source, code: NOT_FOUND }
  - name: passes
    input: [{ n: 5 }]
    output: [{ n: 5, at: 1704067200000, double: 10 }]
`,
    });
    const result = await runWire(['test', 'stamp.yaml'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('FAIL stamp.test.yaml\n  FAIL expects the wrong double\n');
    expect(result.stdout).toContain(
      [
        '       output (- expected, + actual):',
        '           {"n":1,"at":1704067200000,"double":2}',
        '         - {"n":3,"at":1704067200000,"double":7}',
        '         + {"n":3,"at":1704067200000,"double":6}',
      ].join('\n'),
    );
    expect(result.stdout).toContain('         - {"stage":"source","code":"NOT_FOUND"}\n');
    const added = result.stdout.split('\n').filter((l) => l.startsWith('         + {"error"'));
    expect(added).toHaveLength(1);
    expect(JSON.parse(added[0]!.slice('         + '.length))).toMatchObject({ stage: 'source', record: '{"n": 2', code: 'INVALID_INPUT' });
    expect(result.stdout).toContain('  ok   passes\n');
    expect(result.stdout).toContain('2 tests: 1 passed, 1 failed (1 file)\n');
    expect(result.stderr).toBe('wire: INVALID_INPUT: 1 of 2 tests failed\n');
  });

  it('reports a bad test file with its line and column, and still runs the other files', async () => {
    const dir = await makeTempDir();
    await write(dir, {
      'stamp.yaml': CLOCK_PIPELINE,
      'a.test.yaml': `pipeline_file: stamp.yaml\ntests:\n  - name: typo\n    inptu: []\n`,
      'b.test.yaml': `pipeline_file: stamp.yaml\ntests:\n  - name: fine\n    input: [{ n: 0 }]\n    output: [{ n: 0, at: 1704067200000, double: 0 }]\n`,
    });
    const result = await runWire(['test', '.'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("FAIL a.test.yaml: cannot run its tests\n  a.test.yaml:4:5 tests[0].inptu: unknown field 'inptu' (did you mean 'input'?)\n");
    expect(result.stdout).toContain('ok   b.test.yaml\n');
    expect(result.stderr).toBe('wire: INVALID_INPUT: 1 test file could not run\n');
  });

  it('asks which pipeline a test means when the file defines several', async () => {
    const result = await runWire(['test', join(await makeTempDir(), 'x.test.yaml')], { cwd: ROOT });
    expect(result.code).toBe(4);
    const dir = await makeTempDir();
    await write(dir, {
      'two.yaml': `pipelines:\n  - ${CLOCK_PIPELINE.replace(/\n(?=.)/g, '\n    ')}  - ${CLOCK_PIPELINE.replace('stamp', 'other').replace(/\n(?=.)/g, '\n    ')}`,
      'two.test.yaml': `tests:\n  - name: unnamed\n    input: []\n  - name: wrong name\n    pipeline: nope\n    input: []\n`,
    });
    const two = await runWire(['test', 'two.test.yaml'], { cwd: dir });
    expect(two.code, two.stdout + two.stderr).toBe(2);
    expect(two.stdout).toContain('defines 2 pipelines (stamp, other): name one with pipeline:');
    expect(two.stdout).toContain("has no pipeline 'nope' (it has stamp, other)");
    await write(dir, {
      'nodlq.yaml': CLOCK_PIPELINE.replace(/dead_letter: .*\n/, ''),
      'nodlq.test.yaml': `tests:\n  - name: expects a dead letter\n    input_lines: ['{"n": 1']\n    dead_letters: [{ stage: source }]\n    error: malformed\n`,
    });
    const nodlq = await runWire(['test', 'nodlq.test.yaml'], { cwd: dir });
    expect(nodlq.code).toBe(2);
    expect(nodlq.stdout).toContain('expects dead letters, but pipeline stamp has no dead_letter sink');
  });

  it('exits 4 when a path holds no tests', async () => {
    const dir = await makeTempDir();
    await write(dir, { 'stamp.yaml': CLOCK_PIPELINE });
    const file = await runWire(['test', 'stamp.yaml'], { cwd: dir });
    expect(file.code).toBe(4);
    expect(file.stderr.split('\n')[0]).toBe('wire: NOT_FOUND: stamp.yaml has no tests: write them in stamp.test.yaml (see docs/testing.md)');
    const empty = await runWire(['test', '.'], { cwd: dir });
    expect(empty.code).toBe(4);
    expect(empty.stderr).toContain('no test files (*.test.yaml) under .');
  });
});
