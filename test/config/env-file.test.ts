import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEnvFile, withEnvFile } from '../../src/config/env-file.js';
import { isWireError } from '../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'wire-env-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('parseEnvFile', () => {
  it('reads KEY=VALUE lines, comments, blank lines, export, and the three kinds of value', () => {
    const text = [
      '# a comment',
      '',
      'PLAIN=value',
      'SPACED = spaced value   ',
      'COMMENTED=abc # not part of it',
      'HASH=a#b',
      "SINGLE='as $written \\n # kept'",
      'DOUBLE="line\\nbreak \\"quoted\\" \\\\ \\$x"',
      'export EXPORTED=1',
      'EMPTY=',
      'CRLF=yes\r',
      'PLAIN=later wins',
    ].join('\n');
    expect(parseEnvFile(text)).toEqual({
      values: {
        PLAIN: 'later wins',
        SPACED: 'spaced value',
        COMMENTED: 'abc',
        HASH: 'a#b',
        SINGLE: 'as $written \\n # kept',
        DOUBLE: 'line\nbreak "quoted" \\ $x',
        EXPORTED: '1',
        EMPTY: '',
        CRLF: 'yes',
      },
      problems: [],
    });
  });

  it('names each bad line by number and never quotes it (it may hold a secret)', () => {
    const { problems } = parseEnvFile(['OK=1', 'secret-password-line', '1BAD=x', 'OPEN="hunter2', "TRAIL='x' hunter2"].join('\n'));
    expect(problems).toEqual([
      { line: 2, message: 'expected KEY=VALUE (KEY: letters, digits and _, not starting with a digit)' },
      { line: 3, message: 'expected KEY=VALUE (KEY: letters, digits and _, not starting with a digit)' },
      { line: 4, message: 'OPEN: the value\'s " is not closed on its line' },
      { line: 5, message: 'TRAIL: unexpected text after the quoted value' },
    ]);
    expect(JSON.stringify(problems)).not.toMatch(/hunter2|secret-password/);
  });
});

describe('withEnvFile', () => {
  it('adds the file under the environment: a variable already set wins', async () => {
    const path = join(dir, 'a.env');
    writeFileSync(path, 'A=from-file\nB=from-file\n');
    expect(await withEnvFile({ A: 'from-env', C: 'c' }, path)).toEqual({ A: 'from-env', B: 'from-file', C: 'c' });
  });

  it('without a file the environment is unchanged', async () => {
    const env = { A: '1' };
    expect(await withEnvFile(env, undefined)).toBe(env);
  });

  it('a missing file is NOT_FOUND; a bad one INVALID_INPUT naming its lines', async () => {
    await expect(withEnvFile({}, join(dir, 'none.env'))).rejects.toMatchObject({ code: 'NOT_FOUND', message: `env file not found: ${join(dir, 'none.env')}` });
    const bad = join(dir, 'bad.env');
    writeFileSync(bad, 'A=1\noops\n');
    const err: unknown = await withEnvFile({}, bad).catch((e: unknown) => e);
    expect(isWireError(err) && err.code).toBe('INVALID_INPUT');
    expect((err as Error).message).toBe(`env file ${bad}: ${bad}:2: expected KEY=VALUE (KEY: letters, digits and _, not starting with a digit)`);
  });
});
