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

  it('exits 2 with the error and a usage hint on stderr for usage errors', async () => {
    for (const args of [['bogus'], ['run'], ['validate', 'a', 'b'], ['run', '--log-level', 'loud', 'x.yaml']]) {
      const result = await wire(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.out).toBe('');
      expect(result.err).toMatch(/^error: .*\n\(run `wire --help` for usage\)\n$/);
    }
  });

  it('exits 2 and prints the help on stderr when no command is given', async () => {
    const result = await wire();
    expect(result.code).toBe(2);
    expect(result.out).toBe('');
    expect(result.err).toMatch(/^Usage: wire \[options\] \[command\]/);
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
