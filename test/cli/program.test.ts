import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';
import { ROOT } from './harness.js';

function captureIo(): CliIo & { out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: () => out.join(''),
    err: () => err.join(''),
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    env: {},
    stderrIsTty: false,
    columns: undefined,
  };
}

const wire = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
  const io = captureIo();
  const code = await runCli(['node', 'wire', ...args], io);
  return { code, out: io.out(), err: io.err() };
};

describe('the wire command line', () => {
  it('prints the package version for --version and -V', async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await wire('--version')).toEqual({ code: 0, out: `${version}\n`, err: '' });
    expect((await wire('-V')).out).toBe(`${version}\n`);
  });

  it('prints help on stdout and exits 0 for --help, `help run` and `run --help`', async () => {
    const top = await wire('--help');
    expect(top.code).toBe(0);
    expect(top.out).toMatch(/^Usage: wire \[options\] \[command\]/);
    for (const args of [['help', 'run'], ['run', '--help']]) {
      const run = await wire(...args);
      expect(run.code).toBe(0);
      expect(run.out).toMatch(/^Usage: wire run \[options\] <file>/);
      expect(run.out).toContain('--log-level <level>');
    }
  });

  it('exits 2 with usage errors in the `wire: INVALID_INPUT: message` shape, naming the help to read', async () => {
    const cases: [string[], string, string][] = [
      [['bogus'], "unknown command 'bogus'", 'wire --help'],
      [['run'], "missing required argument 'file'", 'wire run --help'],
      [['validate', 'a', 'b'], "too many arguments for 'validate'. Expected 1 argument but got 2.", 'wire validate --help'],
      [['run', '--bogus', 'x.yaml'], "unknown option '--bogus'", 'wire run --help'],
      [['help', 'bogus'], "unknown command 'bogus'", 'wire --help'],
    ];
    for (const [args, message, help] of cases) {
      const result = await wire(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.err.split('\n').filter((line) => line.startsWith('wire: ')), args.join(' ')).toEqual([`wire: INVALID_INPUT: ${message}`]);
      expect(result.err, args.join(' ')).toContain(`\n  help: ${help}\n`);
      expect(result.err).not.toMatch(/^error: /m);
    }
  });

  it("keeps commander's suggestion as a hint", async () => {
    const result = await wire('rn', 'x.yaml');
    expect(result.err).toBe("wire: INVALID_INPUT: unknown command 'rn'\n  hint: Did you mean run?\n  help: wire --help\n");
  });

  it('prints a usage error as one {"type":"error"} line with --json', async () => {
    const result = await wire('run', '--json', '--log-level', 'loud', 'x.yaml');
    expect(result.code).toBe(2);
    expect(JSON.parse(result.err)).toEqual({
      type: 'error',
      error: {
        code: 'INVALID_INPUT',
        message: "option '--log-level <level>' argument 'loud' is invalid. Allowed choices are fatal, error, warn, info, debug, trace, silent.",
        details: { help: 'wire run --help' },
      },
    });
  });

  it('exits 2 and prints the help on stderr, then the error, when no command is given', async () => {
    const result = await wire();
    expect(result.code).toBe(2);
    expect(result.out).toBe('');
    expect(result.err).toMatch(/^Usage: wire \[options\] \[command\]/);
    expect(result.err).toMatch(/\nwire: INVALID_INPUT: a command is required: run, validate, .*\n {2}help: wire --help\n$/);
  });

  it('prints a WireError thrown by a command as `wire: CODE: message` and exits with its code', async () => {
    const missing = join(ROOT, 'no-such-pipeline.yaml');
    const result = await wire('validate', missing);
    expect(result).toEqual({ code: 4, out: '', err: `wire: NOT_FOUND: pipeline file not found: ${missing}\n  path: ${missing}\n` });
  });

  it('adds the stack trace to that error with --log-level debug', async () => {
    const result = await wire('run', '--log-level', 'debug', join(ROOT, 'no-such-pipeline.yaml'));
    expect(result.code).toBe(4);
    expect(result.err).toMatch(/^wire: NOT_FOUND: .*\n[\s\S]*\n\s+at /);
  });
});
