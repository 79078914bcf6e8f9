import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, exists, makeTempDir, runWire } from './harness.js';

// Each kind of bad pipeline file: `wire run` and `wire validate` report `file:line:column path: message`,
// exit 2, and nothing is written (no output file, no checkpoint directory).

const header = (output: string): string =>
  [
    'name: bad',
    'source:',
    '  type: generate',
    '  config: { count: 10 }',
  ].join('\n') + `\n` + `sink:\n  type: file\n  config: { path: ${JSON.stringify(output)} }\n`;

interface BadFile {
  readonly kind: string;
  readonly text: (output: string) => string;
  /** `line:column path: message` as a regular expression, after `file:`. */
  readonly location: RegExp;
}

const BAD_FILES: readonly BadFile[] = [
  {
    kind: 'malformed YAML',
    text: (output) => header(output) + 'transforms:\n  - type: filter\n    config: { expr: "a > 1"\n',
    location: /^:1[01]:\d+ \S/,
  },
  {
    kind: 'unknown type (with the nearest known name)',
    text: (output) => header(output) + 'transforms:\n  - type: filtr\n    config: { expr: "a > 1" }\n',
    location: /^:9:11 transforms\[0\]\.type: unknown transform type 'filtr' \(did you mean 'filter'\?\)$/,
  },
  {
    kind: 'missing field',
    text: (output) => header(output) + 'transforms:\n  - type: filter\n    config: {}\n',
    location: /^:10:13 transforms\[0\]\.config\.expr: required$/,
  },
  {
    kind: 'mistyped field',
    text: (output) => header(output).replace('count: 10', 'count: "ten"'),
    location: /^:4:20 source\.config\.count: must be an integer/,
  },
  {
    kind: 'bad expression',
    text: (output) => header(output) + 'transforms:\n  - type: filter\n    config: { expr: "a > > 1" }\n',
    // Column 26 is the second '>' itself, inside the quoted expression.
    location: /^:10:26 transforms\[0\]\.config\.expr: unexpected token '>'/,
  },
];

describe('bad pipeline files', () => {
  afterEach(cleanup);

  for (const bad of BAD_FILES) {
    it(`${bad.kind}: run reports file:line:column, exits 2 and writes nothing`, async () => {
      const dir = await makeTempDir();
      const output = join(dir, 'out.jsonl');
      const file = join(dir, 'bad.yaml');
      await writeFile(file, bad.text(output));

      const run = await runWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir });
      expect(run.code).toBe(2);
      const problemLine = run.stderr.split('\n').find((l) => l.startsWith(`${file}:`));
      expect(problemLine, run.stderr).toBeDefined();
      expect(problemLine!.slice(file.length)).toMatch(bad.location);
      expect(run.stderr).toMatch(/^wire: INVALID_INPUT: /m);
      expect(run.stderr).not.toMatch(/\n\s+at /);
      expect(exists(output)).toBe(false);
      expect(exists(join(dir, 'state'))).toBe(false);
      expect((await readdir(dir)).sort()).toEqual(['bad.yaml']);

      const validate = await runWire(['validate', file], { cwd: dir });
      expect(validate.code).toBe(2);
      expect(validate.stdout).toBe('');
      expect(validate.stderr).toContain(problemLine!);
    });
  }

  it('reports every problem of a file, not just the first', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'bad.yaml');
    await writeFile(
      file,
      header(join(dir, 'out.jsonl')).replace('count: 10', 'count: -1') +
        'transforms:\n  - type: filtr\n    config: {}\n  - type: map\n    config: { set: { a: "1 +" } }\n',
    );
    const result = await runWire(['validate', file], { cwd: dir });
    expect(result.code).toBe(2);
    const problems = result.stderr.split('\n').filter((l) => l.startsWith(`${file}:`));
    expect(problems.map((l) => l.slice(file.length))).toEqual([
      ':4:20 source.config.count: must be >= 0',
      ":9:11 transforms[0].type: unknown transform type 'filtr' (did you mean 'filter'?)",
      ':12:29 transforms[1].config.set.a: unexpected end of expression at column 4',
    ]);
    expect(result.stderr).toContain('wire: INVALID_INPUT: ');
  });

  it('exits 4 (NOT_FOUND) for a file that does not exist, with the message and no stack', async () => {
    const dir = await makeTempDir();
    const missing = join(dir, 'missing.yaml');
    for (const command of ['validate', 'run']) {
      const result = await runWire([command, missing], { cwd: dir });
      expect(result.code).toBe(4);
      expect(result.stderr).toBe(`wire: NOT_FOUND: pipeline file not found: ${missing}\n  path: ${missing}\n`);
    }
  });
});
