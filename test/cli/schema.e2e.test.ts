import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, ROOT, runWire } from './harness.js';

// `wire schema` is for editors: whatever `wire validate` accepts, it accepts, and it refuses what is plainly wrong.
describe('wire schema', () => {
  let validate: ((data: unknown) => boolean) & { errors?: unknown };

  beforeAll(async () => {
    const result = await runWire(['schema'], { cwd: ROOT });
    expect(result.code, result.stderr).toBe(0);
    // Components' schemas carry x-wire-… annotations of their own: not strict, as the validator is.
    validate = new Ajv({ strict: false, allErrors: true }).compile(JSON.parse(result.stdout) as object);
  });

  afterEach(cleanup);

  it('accepts every pipeline file in examples/', async () => {
    const files = (await readdir(join(ROOT, 'examples'))).filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const data: unknown = parse(await readFile(join(ROOT, 'examples', file), 'utf8'));
      expect(validate(data), `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
  });

  const good = {
    name: 'p',
    source: { type: 'generate', config: { count: 3, record: { i: 'i' } } },
    transforms: [{ type: 'filter', config: { expr: 'i > 1' } }],
    sink: { type: 'stdout' },
  };

  it('accepts a config left out or empty where no field is required', () => {
    expect(validate(good)).toBe(true);
    expect(validate({ ...good, sink: { type: 'stdout', config: null } })).toBe(true);
  });

  it.each([
    ['an unknown source type', { ...good, source: { type: 'generatr', config: {} } }],
    ["a config field of the wrong type (generate's count)", { ...good, source: { type: 'generate', config: { count: 'x' } } }],
    ['an unknown config field of a transform', { ...good, transforms: [{ type: 'filter', config: { expr: 'x', exp: 'y' } }] }],
    ["a file sink's required path left out", { ...good, sink: { type: 'file', config: {} } }],
    ['an unknown top-level field', { ...good, paralelism: 2 }],
    ['a pipeline without its sink', { name: 'p', source: good.source }],
    ['a bad pipeline under pipelines:', { pipelines: [good, { ...good, dead_letter: { type: 'nope' } }] }],
    ['a pipeline name wire validate refuses', { ...good, name: 'Orders 2' }],
    ['a key that is not a pipeline name in the sources:/sinks: form', { sources: [{ key: 'A B', type: 'stdin' }], sinks: [{ key: 'A B', type: 'stdout' }] }],
    ["an http sink's config left out (its url is required)", { ...good, sink: { type: 'http' } }],
    ["a file source's config left out (its path is required)", { ...good, source: { type: 'file' } }],
    ['a source without its key in the sources:/sinks: form', { sources: [{ type: 'stdin', config: {} }], sinks: [{ key: 'a', type: 'stdout', config: {} }] }],
  ])('rejects %s', (_what, data) => {
    expect(validate(data)).toBe(false);
  });
});
