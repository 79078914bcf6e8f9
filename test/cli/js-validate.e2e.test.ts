import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, exists, makeTempDir, runWire } from './harness.js';

/** A pipeline calling `fn` from ./enrich.mjs, with `module` as its text. */
async function jsPipeline(module: string, fn: string | undefined): Promise<{ dir: string; file: string; output: string }> {
  const dir = await makeTempDir();
  await writeFile(join(dir, 'in.jsonl'), '{"n":1}\n{"n":2}\n');
  await writeFile(join(dir, 'enrich.mjs'), module);
  const output = join(dir, 'out.jsonl');
  const file = join(dir, 'p.yaml');
  await writeFile(
    file,
    [
      'name: js-check',
      'source:',
      '  type: file',
      '  config: { path: ./in.jsonl }',
      'transforms:',
      '  - type: js',
      '    config:',
      '      module: ./enrich.mjs',
      ...(fn === undefined ? [] : [`      function: ${fn}`]),
      'sink:',
      '  type: file',
      '  config: { path: ./out.jsonl }',
      '',
    ].join('\n'),
  );
  return { dir, file, output };
}

const ENRICH = 'export function enrich(v) { return { ...v, rich: true }; }\nexport const version = 3;\n';

describe('wire validate and wire run load a js transform\'s module', () => {
  afterEach(cleanup);

  it('a misspelt function fails validate at its line and column, with the nearest export suggested', { timeout: 60_000 }, async () => {
    const { dir, file } = await jsPipeline(ENRICH, 'enrihc');
    const result = await runWire(['validate', file], { cwd: dir });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/p\.yaml:9:17 transforms\[0\]\.config\.function: .*enrich\.mjs has no exported function 'enrihc' \(did you mean 'enrich'\?\)/);
  });

  it('a module without a default export function names the exports to choose from', { timeout: 60_000 }, async () => {
    const { dir, file } = await jsPipeline(ENRICH, undefined);
    const result = await runWire(['validate', file], { cwd: dir });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/p\.yaml:8:15 transforms\[0\]\.config\.module: .*no default export that is a function \(set function to one of its exports: enrich\)/);
  });

  it('a module that does not load fails validate with why', { timeout: 60_000 }, async () => {
    const { dir, file } = await jsPipeline('export function enrich(v) { return v +; }\n', 'enrich');
    const result = await runWire(['validate', file], { cwd: dir });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/p\.yaml:8:15 transforms\[0\]\.config\.module: cannot load module .*enrich\.mjs: Unexpected token ';'/);
  });

  it('wire run refuses it before reading any record: exit 2, no output, nothing dead-lettered', { timeout: 60_000 }, async () => {
    const { dir, file, output } = await jsPipeline(ENRICH, 'enrihc');
    const result = await runWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/did you mean 'enrich'/);
    expect(exists(output)).toBe(false);
  });

  it('wire run - (the pipeline on stdin) checks the module too', { timeout: 60_000 }, async () => {
    const { dir, file, output } = await jsPipeline(ENRICH, 'enrihc');
    const result = await runWire(['run', '-', '--data-dir', join(dir, 'state')], { cwd: dir, input: await readFile(file, 'utf8') });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/<stdin>:9:17 transforms\[0\]\.config\.function: .*no exported function 'enrihc' \(did you mean 'enrich'\?\)/);
    expect(exists(output)).toBe(false);
  });

  it('a module and function that are right pass validate', { timeout: 60_000 }, async () => {
    const { dir, file } = await jsPipeline(ENRICH, 'enrich');
    const result = await runWire(['validate', file], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^OK: /);
  });
});
