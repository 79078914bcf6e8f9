import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WireError } from '../../src/core/errors.js';
import { formatProblem, loadPipelineFile } from '../../src/config/index.js';
import { registry } from './fake-registry.js';

const dir = mkdtempSync(join(tmpdir(), 'wire-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('loadPipelineFile', () => {
  it("resolves js.module against the pipeline file's directory, and nothing else", async () => {
    mkdirSync(join(dir, 'sub'), { recursive: true });
    write('sub/fn.mjs', 'export default (v) => v;\n');
    const path = write(
      'sub/pipeline.yaml',
      'name: a\nsource: { type: file, config: { path: ./in.jsonl } }\ntransforms: [ { type: js, config: { module: ./fn.mjs } } ]\nsink: { type: stdout }\n',
    );
    const result = await loadPipelineFile(path, { env: {}, registry });
    expect(result.problems).toBeUndefined();
    expect(result.pipelines![0]!.transforms[0]!.config['module']).toBe(join(dir, 'sub', 'fn.mjs'));
    expect(result.pipelines![0]!.source.config['path']).toBe('./in.jsonl');
  });

  it('reads JSON files', async () => {
    const path = write('p.json', JSON.stringify({ name: 'j', source: { type: 'generate' }, sink: { type: 'stdout' } }));
    const result = await loadPipelineFile(path, { env: {}, registry });
    expect(result.pipelines?.map((p) => p.name)).toEqual(['j']);
  });

  it('names the file as given in each problem', async () => {
    const path = write('bad.yaml', 'name: a\nsource: { type: generate }\nsink: { type: file }\n');
    const result = await loadPipelineFile(path, { env: {}, registry });
    expect(result.problems?.map(formatProblem)).toEqual([`${path}:3:7 sink.config.path: required`]);
  });

  it('throws NOT_FOUND for a missing file', async () => {
    const err = await loadPipelineFile(join(dir, 'nope.yaml'), { env: {}, registry }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WireError);
    expect((err as WireError).code).toBe('NOT_FOUND');
    expect((err as WireError).message).toBe(`pipeline file not found: ${join(dir, 'nope.yaml')}`);
  });

  it('throws INVALID_INPUT for a directory', async () => {
    const err = await loadPipelineFile(dir, { env: {}, registry }).catch((e: unknown) => e);
    expect((err as WireError).code).toBe('INVALID_INPUT');
  });
});
