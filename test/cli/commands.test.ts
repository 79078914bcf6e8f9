import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectorsCommand } from '../../src/cli/commands/connectors.js';
import { runCommand, type RunOptions } from '../../src/cli/commands/run.js';
import { validateCommand } from '../../src/cli/commands/validate.js';
import type { CliIo } from '../../src/cli/io.js';
import { cleanup, makeTempDir, waitFor } from './harness.js';

// The commands in-process, with captured output: the same behaviour the end-to-end tests check
// through `node bin/wire.js`, at unit-test speed.

function captureIo(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    env: {},
    stderrIsTty: false,
    columns: undefined,
  };
}

function generatePipeline(output: string, count?: number): string {
  return [
    'name: gen',
    'source:',
    '  type: generate',
    `  config: { ${count === undefined ? 'rate: 2000' : `count: ${count}`}, record: { i: "i" } }`,
    'transforms:',
    '  - type: filter',
    '    config: { expr: "i % 2 == 0" }',
    'sink:',
    '  type: file',
    `  config: { path: ${JSON.stringify(output)} }`,
    '',
  ].join('\n');
}

const options = (dir: string, extra: Partial<RunOptions> = {}): RunOptions => ({
  dataDir: join(dir, 'state'),
  json: false,
  fromStart: false,
  logLevel: 'silent',
  ...extra,
});

describe('commands in-process', () => {
  afterEach(cleanup);

  it('validate returns 0 and prints OK for a good file', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'p.yaml');
    await writeFile(file, generatePipeline(join(dir, 'out.jsonl'), 10));
    const io = captureIo();
    expect(await validateCommand(file, io)).toBe(0);
    expect(io.out.join('')).toBe(`OK: ${file}: 1 pipeline (gen)\n`);
  });

  it('validate returns 2 and prints each problem then a summary error', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'p.yaml');
    await writeFile(file, generatePipeline(join(dir, 'out.jsonl'), 10).replace('i % 2 == 0', 'i %'));
    const io = captureIo();
    expect(await validateCommand(file, io)).toBe(2);
    expect(io.err.join('')).toMatch(new RegExp(`^${file}:7:\\d+ transforms\\[0\\]\\.config\\.expr: .*\\nwire: INVALID_INPUT: ${file}: 1 problem\\n$`));
  });

  it('connectors prints the text listing, and the Markdown reference with --markdown', () => {
    const text = captureIo();
    expect(connectorsCommand({ markdown: false }, text)).toBe(0);
    expect(text.out.join('')).toMatch(/^Sources:\n/);
    const markdown = captureIo();
    expect(connectorsCommand({ markdown: true }, markdown)).toBe(0);
    expect(markdown.out.join('')).toMatch(/^# Connectors and transforms\n/);
  });

  it('run completes a pipeline, writes its output and prints one summary line', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'p.yaml');
    const output = join(dir, 'out.jsonl');
    await writeFile(file, generatePipeline(output, 1000));
    const io = captureIo();
    expect(await runCommand(file, options(dir), io)).toBe(0);
    expect(io.err.join('')).toMatch(/^gen: completed: 1,000 in, 500 out, 0 dead-lettered, 500 filtered in /);
    const lines = (await readFile(output, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(500);
    expect(lines[1]).toBe('{"i":2}');
  });

  it('run --json prints a parseable summary with the counters', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'p.yaml');
    await writeFile(file, generatePipeline(join(dir, 'out.jsonl'), 100));
    const io = captureIo();
    expect(await runCommand(file, options(dir, { json: true }), io)).toBe(0);
    const lines = io.err.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ type: 'summary', pipeline: 'gen', state: 'completed', records_in: 100, records_out: 50 });
  });

  it('run on a bad file returns 2, lists the problems and creates nothing', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'p.yaml');
    await writeFile(file, generatePipeline(join(dir, 'out.jsonl'), 10).replace('type: generate', 'type: generat'));
    const io = captureIo();
    expect(await runCommand(file, options(dir), io)).toBe(2);
    expect(io.err.join('')).toContain("unknown source type 'generat' (did you mean 'generate'?)");
    expect(io.err.join('')).toContain('nothing was run');
  });

  it('run drains an endless pipeline on SIGTERM and returns 0 with the state stopped', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'p.yaml');
    await writeFile(file, generatePipeline(join(dir, 'out.jsonl')));
    const io = captureIo();
    const before = process.listenerCount('SIGTERM');
    const running = runCommand(file, options(dir), io);
    await waitFor(() => process.listenerCount('SIGTERM') > before, 20_000);
    process.emit('SIGTERM', 'SIGTERM');
    expect(await running).toBe(0);
    expect(io.err.join('')).toMatch(/wire: SIGTERM: draining; send it again to exit at once\ngen: stopped: /);
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it("run returns a failed pipeline's exit code and prints its error after the summary", async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'p.yaml');
    await writeFile(
      file,
      generatePipeline(join(dir, 'out.jsonl'), 10).replace('i % 2 == 0', "i < 5 or upper(i) == 'x'").replace('name: gen', 'name: gen\non_error: fail'),
    );
    for (const json of [false, true]) {
      const io = captureIo();
      expect(await runCommand(file, options(dir, { json, fromStart: true }), io)).toBe(2);
      const err = io.err.join('');
      if (json) expect(JSON.parse(err.trim().split('\n').at(-1)!)).toMatchObject({ type: 'summary', state: 'failed', error: { code: 'INVALID_INPUT' } });
      else expect(err).toMatch(/^gen: failed: .*\nwire: INVALID_INPUT: /);
    }
  });

  it('run returns the exit code of a checkpoint store that cannot open, as a WireError', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'p.yaml');
    await writeFile(file, generatePipeline(join(dir, 'out.jsonl'), 10));
    const blocker = join(dir, 'not-a-dir');
    await writeFile(blocker, 'x');
    const io = captureIo();
    expect(await runCommand(file, { ...options(dir), dataDir: join(blocker, 'state') }, io)).toBe(7);
    expect(io.err.join('')).toMatch(/^wire: UNAVAILABLE: cannot open the checkpoint store/);
  });
});
