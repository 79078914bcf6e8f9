// What `wire` prints when something goes wrong: every error in the documented shape — `wire: CODE: message` and
// its details, or one {"type":"error"} line with --json — on every command, and at the default log level one clear
// line per failure, naming the pipeline, with stacks and internals left for --log-level debug.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeEndpoints, endpoint } from './endpoints.js';
import { cleanup, makeTempDir, ROOT, runWire } from './harness.js';

afterEach(async () => {
  await closeEndpoints();
  await cleanup();
});

/** The commands `wire --help` lists (every command, whoever added it). */
async function commands(): Promise<string[]> {
  const help = await runWire(['--help'], { cwd: ROOT });
  const section = help.stdout.split('Commands:\n')[1]!;
  return [...section.matchAll(/^ {2}([a-z-]+)/gm)].map((m) => m[1]!).filter((name) => name !== 'help');
}

/** A pipeline whose http sink fails for good after three attempts (5xx) under on_error: fail. */
async function failingHttp(dir: string): Promise<string> {
  const file = join(dir, 'pipeline.yaml');
  const { url } = await endpoint(503);
  await writeFile(
    file,
    [
      'name: to-http',
      'source: { type: generate, config: { count: 5 } }',
      `sink: { type: http, config: { url: "${url}" } }`,
      'retry: { max_attempts: 3, initial: 1ms, max: 5ms }',
      'on_error: fail',
      '',
    ].join('\n'),
  );
  return file;
}

describe('usage errors', () => {
  it("every command answers an unknown option with `wire: INVALID_INPUT: …` and exit 2, never commander's `error:`", async () => {
    const names = await commands();
    expect(names).toEqual(expect.arrayContaining(['run', 'validate', 'connectors', 'completion']));
    for (const name of names) {
      const result = await runWire([name, '--bogus'], { cwd: ROOT });
      expect(result.code, name).toBe(2);
      expect(result.stderr, name).toBe(`wire: INVALID_INPUT: unknown option '--bogus'\n  help: wire ${name} --help\n`);
    }
  });

  it('with --json, a usage error is one {"type":"error"} line', async () => {
    const result = await runWire(['run', '--json', '--bogus', 'x.yaml'], { cwd: ROOT });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stderr)).toEqual({
      type: 'error',
      error: { code: 'INVALID_INPUT', message: "unknown option '--bogus'", details: { help: 'wire run --help' } },
    });
  });
});

describe('errors of wire run', () => {
  it('with --json, a missing pipeline file is one {"type":"error"} line, exit 4', async () => {
    const dir = await makeTempDir();
    const result = await runWire(['run', '--json', '--data-dir', join(dir, 'state'), 'missing.yaml'], { cwd: dir });
    expect(result.code).toBe(4);
    expect(JSON.parse(result.stderr)).toMatchObject({ type: 'error', error: { code: 'NOT_FOUND', details: { path: 'missing.yaml' } } });
  });

  it('at the default level, a failed sink is one clear line, then the pipeline and details: no JSON, stack, internals or repeats', async () => {
    const dir = await makeTempDir();
    const result = await runWire(['run', '--data-dir', join(dir, 'state'), await failingHttp(dir)], { cwd: dir });
    expect(result.code).toBe(7);
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toMatch(/^to-http: failed: 5 in, 0 out, 0 dead-lettered in /);
    expect(lines[1]).toMatch(/^wire: UNAVAILABLE: sink write failed after 3 attempt\(s\): http:\/\/127\.0\.0\.1:\d+\/in answered 503$/);
    expect(lines.slice(2)).toEqual(['  pipeline: to-http', '  component: sink', '  attempts: 3']);
  });

  it('at the default level, a record refused under on_error: fail is one line with the message once', async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'in.txt'), 'a\nb\n');
    const file = join(dir, 'pipeline.yaml');
    await writeFile(
      file,
      [
        'name: lines-map',
        'source: { type: file, config: { path: in.txt, format: lines } }',
        'transforms: [ { type: map, config: { set: { x: "1" } } } ]',
        'sink: { type: drop }',
        'on_error: fail',
        '',
      ].join('\n'),
    );
    const result = await runWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir });
    expect(result.code).toBe(2);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('wire: '));
    expect(errors).toEqual([
      'wire: INVALID_INPUT: transforms.0 rejected a record and no dead_letter sink is configured: map needs an object value, got string',
    ]);
    expect(result.stderr).toContain('\n  pipeline: lines-map\n');
  });

  it('at --log-level debug, the failure is logged as JSON with its stack and cause', async () => {
    const dir = await makeTempDir();
    const result = await runWire(['run', '--log-level', 'debug', '--data-dir', join(dir, 'state'), await failingHttp(dir)], { cwd: dir });
    expect(result.code).toBe(7);
    const logs = result.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; pipeline?: string; err?: { stack?: string } });
    const failed = logs.find((log) => log.msg === 'pipeline failed');
    expect(failed).toMatchObject({ pipeline: 'to-http' });
    expect(failed!.err!.stack).toMatch(/answered 503[\s\S]*\n\s+at /);
  });

  it('with --json at the default level, every line is JSON and none holds a stack or record internals', async () => {
    const dir = await makeTempDir();
    const result = await runWire(['run', '--json', '--data-dir', join(dir, 'state'), await failingHttp(dir)], { cwd: dir });
    expect(result.code).toBe(7);
    const lines = result.stderr.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    // A progress line each second of a slow run; otherwise only the summary, which carries the error.
    expect(lines.filter((line) => line.type !== 'progress')).toEqual([
      expect.objectContaining({ type: 'summary', pipeline: 'to-http', state: 'failed', error: expect.objectContaining({ code: 'UNAVAILABLE' }) }),
    ]);
    expect(result.stderr).not.toMatch(/_value|_parsedFromLines|"stack"/);
  });
});
