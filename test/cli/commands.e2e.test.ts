import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, ROOT, runWire } from './harness.js';

describe('wire validate, connectors, --version, --help and usage errors', () => {
  afterEach(cleanup);

  it('validate prints OK with the pipelines of each example and exits 0', async () => {
    const expected: Record<string, string> = {
      'quickstart.yaml': '1 pipeline (quickstart)',
      'parallel.yaml': '2 pipelines (big-orders, orders-by-user)',
      'legacy-wire.yaml': '2 pipelines (orders, ticks)',
      'generate-to-stdout.yaml': '1 pipeline (generate-to-stdout)',
      'http-ingest.yaml': '1 pipeline (http-ingest)',
      'redis-orders.yaml': '1 pipeline (redis-orders)',
      'redis-to-postgres.yaml': '1 pipeline (redis-to-postgres)',
      'rabbitmq-orders.yaml': '1 pipeline (rabbitmq-orders)',
      'mqtt-sensors.yaml': '1 pipeline (mqtt-sensors)',
    };
    for (const [file, names] of Object.entries(expected)) {
      const result = await runWire(['validate', `examples/${file}`], { cwd: ROOT });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toBe(`OK: examples/${file}: ${names}\n`);
    }
  });

  it('connectors lists every source, transform and sink with its config fields', async () => {
    const result = await runWire(['connectors'], { cwd: ROOT });
    expect(result.code).toBe(0);
    const sections = result.stdout.split('\n\n');
    expect(sections.map((s) => s.split('\n')[0])).toEqual(['Sources:', 'Transforms:', 'Sinks:']);
    for (const type of ['file', 'generate', 'http', 'stdin']) expect(sections[0]).toMatch(new RegExp(`^  ${type} `, 'm'));
    for (const type of ['filter', 'map', 'key', 'uppercase', 'js']) expect(sections[1]).toMatch(new RegExp(`^  ${type} `, 'm'));
    for (const type of ['file', 'stdout', 'drop', 'http', 'rabbitmq', 'mqtt']) expect(sections[2]).toMatch(new RegExp(`^  ${type} `, 'm'));
    for (const type of ['rabbitmq', 'mqtt']) expect(sections[0]).toMatch(new RegExp(`^  ${type} `, 'm'));
    expect(sections[0]).toMatch(/^\s+path \(string, required\)/m);
  });

  it('connectors --markdown prints the Markdown reference (docs/connectors.md when it is generated)', async () => {
    const result = await runWire(['connectors', '--markdown'], { cwd: ROOT });
    expect(result.code).toBe(0);
    expect(result.stdout.startsWith('# Connectors and transforms\n')).toBe(true);
    expect(result.stdout).toContain('### `filter`');
    expect(result.stdout).toContain('| `path` |');
    const committed = await readFile(join(ROOT, 'docs', 'connectors.md'), 'utf8').catch(() => undefined);
    if (committed !== undefined) expect(result.stdout).toBe(committed);
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await runWire(['--version'], { cwd: ROOT });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${pkg.version}\n`);
  });

  it('--help lists the commands, and each command has its own help', async () => {
    const result = await runWire(['--help'], { cwd: ROOT });
    expect(result.code).toBe(0);
    for (const command of ['run', 'validate', 'connectors']) expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    const run = await runWire(['run', '--help'], { cwd: ROOT });
    expect(run.code).toBe(0);
    for (const option of ['--data-dir', '--json', '--from-start', '--log-level']) expect(run.stdout).toContain(option);
  });

  it('exits 2 on usage errors: no command, an unknown command or option, a missing file argument, a bad log level', async () => {
    for (const args of [[], ['bogus'], ['run'], ['run', '--nope', 'x.yaml'], ['run', '--log-level', 'loud', 'x.yaml']]) {
      const result = await runWire(args, { cwd: ROOT });
      expect(result.code, `wire ${args.join(' ')}`).toBe(2);
      expect(result.stderr.length).toBeGreaterThan(0);
    }
  });
});

describe('wire run exit codes and error output', () => {
  afterEach(cleanup);

  async function failingPipeline(dir: string): Promise<string> {
    const input = join(dir, 'in.jsonl');
    await writeFile(input, '{"a":1}\n{"a":\n{"a":3}\n');
    const file = join(dir, 'fail.yaml');
    await writeFile(
      file,
      [
        'name: fails',
        'on_error: fail',
        'source:',
        '  type: file',
        `  config: { path: ${JSON.stringify(input)} }`,
        'transforms:',
        '  - type: filter',
        '    config: { expr: "a > 0" }',
        'sink:',
        '  type: file',
        `  config: { path: ${JSON.stringify(join(dir, 'out.jsonl'))} }`,
        '',
      ].join('\n'),
    );
    return file;
  }

  it("a failed pipeline exits with its error's code and prints `wire: CODE: message` without a stack", async () => {
    const dir = await makeTempDir();
    const file = await failingPipeline(dir);
    const result = await runWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^fails: failed: /m);
    expect(result.stderr).toMatch(/^wire: INVALID_INPUT: .*malformed JSON/m);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });

  it('prints the stack trace with --log-level debug', async () => {
    const dir = await makeTempDir();
    const file = await failingPipeline(dir);
    const result = await runWire(['run', '--log-level', 'debug', '--data-dir', join(dir, 'state'), file], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^\s+at /m);
  });

  it('with --json, every stderr line is JSON and the failed summary carries the error', async () => {
    const dir = await makeTempDir();
    const file = await failingPipeline(dir);
    const result = await runWire(['run', '--json', '--data-dir', join(dir, 'state'), file], { cwd: dir });
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines.find((l) => l.type === 'summary');
    expect(summary).toMatchObject({ pipeline: 'fails', state: 'failed', error: { code: 'INVALID_INPUT' } });
  });

  it('with --json, a completed file run reports its source read to the last byte', async () => {
    const dir = await makeTempDir();
    const input = join(dir, 'in.jsonl');
    const text = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(i % 50) })).join('\n') + '\n';
    await writeFile(input, text);
    const file = join(dir, 'copy.yaml');
    const sink = JSON.stringify(join(dir, 'out.jsonl'));
    await writeFile(file, `name: copy\nsource: { type: file, config: { path: ${JSON.stringify(input)} } }\nsink: { type: file, config: { path: ${sink} } }\n`);
    const result = await runWire(['run', '--json', '--data-dir', join(dir, 'state'), file], { cwd: dir });
    expect(result.code).toBe(0);
    const lines = result.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const size = Buffer.byteLength(text);
    expect(lines.find((l) => l.type === 'summary')).toMatchObject({ state: 'completed', records_in: 20_000, progress: { done: size, total: size } });
    expect(await readFile(join(dir, 'out.jsonl'), 'utf8')).toBe(text);
  });

  it('run writes a file to stdout as it reads it, blank lines and CRs left out, with or without transforms', async () => {
    const dir = await makeTempDir();
    const input = join(dir, 'in.jsonl');
    const lines = Array.from({ length: 30_000 }, (_, i) => JSON.stringify({ i, user: `u${i % 7}`, pad: 'y'.repeat(i % 60) }));
    await writeFile(input, lines.slice(0, 10).join('\r\n') + '\r\n\n' + lines.slice(10).join('\n') + '\n');
    const run = async (name: string, transforms: string) => {
      const file = join(dir, `${name}.yaml`);
      await writeFile(file, `name: ${name}\nsource: { type: file, config: { path: ${JSON.stringify(input)} } }\n${transforms}sink: { type: stdout }\n`);
      const result = await runWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir });
      expect(result.code, result.stderr).toBe(0);
      return result.stdout;
    };
    expect(await run('copy', '')).toBe(lines.join('\n') + '\n');
    const upper = lines.map((l) => {
      const value = JSON.parse(l) as { user: string };
      return JSON.stringify({ ...value, user: value.user.toUpperCase() });
    });
    expect(await run('upper', 'transforms: [{ type: map, config: { set: { user: "upper(user)" } } }]\n')).toBe(upper.join('\n') + '\n');
  });

  it('with --json, a bad file gives one JSON error line listing every problem', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'name: x\nsource: { type: nope }\nsink: { type: drop }\n');
    const result = await runWire(['run', '--json', file], { cwd: dir });
    expect(result.code).toBe(2);
    const line = JSON.parse(result.stderr.trim()) as { type: string; error: { code: string; details: { problems: string[] } } };
    expect(line.type).toBe('error');
    expect(line.error.code).toBe('INVALID_INPUT');
    expect(line.error.details.problems).toEqual([`${file}:2:17 source.type: unknown source type 'nope' (known: file, stdin, generate, http, redis, mongodb, postgres_cdc, kafka, rabbitmq, mqtt, nats, s3)`]);
  });
});
