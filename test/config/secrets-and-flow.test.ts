import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatProblem, parsePipelineText } from '../../src/config/index.js';
import { MAX_SECRET_BYTES } from '../../src/config/secret-file.js';
import { registry } from './fake-registry.js';

const dir = mkdtempSync(join(tmpdir(), 'wire-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (...l: string[]): string => l.join('\n') + '\n';
const parse = (text: string, env: Record<string, string> = {}) => parsePipelineText(text, join(dir, 'p.yaml'), { env, registry });
const problemsOf = (text: string, env: Record<string, string> = {}): string[] => {
  const result = parse(text, env);
  if (result.problems === undefined) throw new Error(`expected problems, got ${JSON.stringify(result.pipelines)}`);
  return result.problems.map((p) => formatProblem({ ...p, file: 'p.yaml' }));
};

describe('${VAR} inside flow collections ({ } and [ ])', () => {
  it('an unquoted number from the environment is a number: { count: ${N} }', () => {
    const result = parse(lines('name: a', 'source: { type: generate, config: { count: ${N}, rate: ${RATE:-2.5} } }', 'sink: { type: stdout }'), { N: '12' });
    expect(result.problems).toBeUndefined();
    expect(result.pipelines?.[0]?.source.config).toMatchObject({ count: 12, rate: 2.5 });
  });

  it('a default holding flow characters stays whole: { path: ${P:-a,b[1]} }', () => {
    const result = parse(lines('name: a', 'source: { type: file, config: { path: ${P:-a,b[1]} } }', 'sink: { type: stdout }'));
    expect(result.pipelines?.[0]?.source.config).toMatchObject({ path: 'a,b[1]' });
  });

  it('works in a flow sequence and next to the keys it leaves alone', () => {
    const result = parse(lines('name: a', 'source: { type: file, config: { path: "x" } }', 'transforms: [{ type: filter, config: { expr: "n > ${MIN}" } }]', 'sink: { type: stdout }'), { MIN: '3' });
    expect(result.pipelines?.[0]?.transforms[0]?.config).toEqual({ expr: 'n > 3' });
  });

  it('a quoted reference in a flow mapping stays a string', () => {
    const result = parse(lines('name: "${NAME}"', 'source: { type: file, config: { path: "${N}" } }', 'sink: { type: stdout }'), { N: '12', NAME: 'n' });
    expect(result.pipelines?.[0]?.source.config).toMatchObject({ path: '12' });
  });

  it('$${ stays a literal and braces outside references are YAML as before', () => {
    const result = parse(lines('name: a', 'source: { type: file, config: { path: "$${HOME}" } }', 'sink: { type: stdout }'));
    expect(result.pipelines?.[0]?.source.config).toMatchObject({ path: '${HOME}' });
    expect(problemsOf(lines('name: a', 'source: { type: file, config: { path: x }', 'sink: { type: stdout }'))[0]).toMatch(/^p\.yaml:\d+:\d+ /);
  });

  it('an unclosed ${ does not swallow the YAML after it up to a later }', () => {
    expect(problemsOf(lines('name: a', 'source: { type: file, config: { path: "x${" } }', 'sink: { type: stdout }'))).toEqual([
      "p.yaml:2:41 source.config.path: '${' is not closed by '}' (write '$${' for a literal '${')",
    ]);
  });

  it('a file holding private-use characters keeps them', () => {
    const result = parse(lines('name: a', 'source: { type: file, config: { path: "\uE000${P}\uE001" } }', 'sink: { type: stdout }'), { P: 'x' });
    expect(result.pipelines?.[0]?.source.config).toMatchObject({ path: '\uE000x\uE001' });
  });
});

describe('${file:PATH}', () => {
  writeFileSync(join(dir, 'token'), 's3cr3t-token\n');
  writeFileSync(join(dir, 'crlf'), 'windows-secret\r\n');
  writeFileSync(join(dir, 'pin'), '0042\n');
  writeFileSync(join(dir, 'format'), 'supersecretformat\n');
  writeFileSync(join(dir, 'big'), 'x'.repeat(MAX_SECRET_BYTES + 1));
  writeFileSync(join(dir, 'binary'), Buffer.from([0xff, 0xfe, 0x00]));
  mkdirSync(join(dir, 'folder'));

  it('is replaced by the file content without its trailing line break, relative to the pipeline file', () => {
    const result = parse(lines('name: a', 'source: { type: file, config: { path: ${file:token} } }', 'sink: { type: stdout }'));
    expect(result.pipelines?.[0]?.source.config).toMatchObject({ path: 's3cr3t-token' });
  });

  it('reads an absolute path, drops a CRLF, and may sit inside a longer value', () => {
    const result = parse(lines('name: a', 'source:', '  type: file', `  config: { path: "Bearer \${file:${join(dir, 'crlf')}}!" }`, 'sink: { type: stdout }'));
    expect(result.pipelines?.[0]?.source.config).toMatchObject({ path: 'Bearer windows-secret!' });
  });

  it('a value from a file stays a string even unquoted: a PIN of digits is no number', () => {
    const result = parse(lines('name: a', 'source:', '  type: file', '  config:', '    path: ${file:pin}', 'sink: { type: stdout }'));
    expect(result.pipelines?.[0]?.source.config).toMatchObject({ path: '0042' });
  });

  it('a missing file is a problem at the reference, with line and column', () => {
    expect(problemsOf(lines('name: a', 'source: { type: file, config: { path: "x-${file:nope.txt}" } }', 'sink: { type: stdout }'))).toEqual([
      "p.yaml:2:42 source.config.path: cannot read secret file 'nope.txt': no such file",
    ]);
  });

  it.each([
    ['folder', "cannot read secret file 'folder': it is a directory"],
    ['big', `cannot read secret file 'big': it holds ${MAX_SECRET_BYTES + 1} bytes, more than the ${MAX_SECRET_BYTES} a secret file may`],
    ['binary', "cannot read secret file 'binary': it is not UTF-8 text"],
    ['/dev/zero', "cannot read secret file '/dev/zero': it is not a regular file"],
  ])('refuses %s rather than read it', (path, message) => {
    expect(problemsOf(lines('name: a', 'source:', '  type: file', '  config:', `    path: \${file:${path}}`, 'sink: { type: stdout }'))).toEqual([
      `p.yaml:5:11 source.config.path: ${message}`,
    ]);
  });

  it('does not block on a FIFO no one writes to', () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    expect(problemsOf(lines('name: a', 'source:', '  type: file', '  config:', `    path: \${file:${fifo}}`, 'sink: { type: stdout }'))).toEqual([
      `p.yaml:5:11 source.config.path: cannot read secret file '${fifo}': it is not a regular file`,
    ]);
  });

  it('never shows the value in a problem, even where the message would quote it', () => {
    const [problem] = problemsOf(lines('name: a', 'source:', '  type: file', '  config:', '    path: x', '    format: ${file:format}', 'sink: { type: stdout }'));
    expect(problem).toBe("p.yaml:6:13 source.config.format: '[secret]' is not one of: jsonl, lines, csv");
    expect(problem).not.toContain('supersecretformat');
  });

  it('${file:-default} is still the variable named file, with a default', () => {
    const result = parse(lines('name: a', 'source: { type: file, config: { path: "${file:-fallback}" } }', 'sink: { type: stdout }'));
    expect(result.pipelines?.[0]?.source.config).toMatchObject({ path: 'fallback' });
  });

  it('${file:} names no file', () => {
    expect(problemsOf(lines('name: a', 'source: { type: file, config: { path: "${file:}" } }', 'sink: { type: stdout }'))).toEqual([
      "p.yaml:2:40 source.config.path: '${file:}' names no file (want ${file:PATH})",
    ]);
  });
});
