import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { jsDefinition } from '../../src/transforms/js.js';
import { WireRecord } from '../../src/core/record.js';
import { run, runRecords } from './helpers.js';

const module = fileURLToPath(new URL('./fixtures/double.mjs', import.meta.url));
const js = (fn?: string) => jsDefinition.create(fn === undefined ? { module } : { module, function: fn });

describe('js', () => {
  it("calls the module's default export on each value", async () => {
    const { out } = await run(js(), [{ n: 1, k: 'a' }, { n: 2 }]);
    expect(out.map((r) => r.value)).toEqual([{ n: 2, k: 'a' }, { n: 4 }]);
  });

  it('drops a record when the function returns null', async () => {
    const { out } = await run(js('dropOdd'), [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    expect(out.map((r) => r.value)).toEqual([{ n: 2 }, { n: 4 }]);
  });

  it('splits a record when the function returns an array, keeping order, key and position', async () => {
    const records = [{ items: [{ i: 1 }, { i: 2 }] }, { items: [] }, { items: [{ i: 3 }, null] }].map(
      (value, position) => new WireRecord({ value, key: `k${position}`, position }),
    );
    const { out } = await runRecords(js('explode'), records);
    expect(out.map((r) => r.value)).toEqual([{ i: 1 }, { i: 2 }, { i: 3 }]);
    expect(out.map((r) => [r.key, r.position])).toEqual([['k0', 0], ['k0', 0], ['k2', 2]]);
    expect(new Set(out.map((r) => r.id)).size).toBe(3);
  });

  it('awaits an async function once per batch and rejects the records whose promise fails', async () => {
    const { out, rejected } = await run(js('slowDouble'), [{ n: 1 }, { n: 13 }, { n: 2 }]);
    expect(out.map((r) => r.value)).toEqual([{ n: 2 }, { n: 4 }]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.record.value).toEqual({ n: 13 });
    expect((rejected[0]!.error as Error).message).toBe('unlucky');
  });

  it('keeps input order when sync and async results mix, and rejects a throwing record', async () => {
    const { out, rejected } = await run(js('mixed'), [{ n: 1 }, { n: 2 }, { n: 0 }, { n: 3 }, { n: 4 }]);
    expect(out.map((r) => r.value)).toEqual([
      { n: 1, async: false },
      { n: 2, async: true },
      { n: 3, async: false },
      { n: 4, async: true },
    ]);
    expect((rejected[0]!.error as Error).message).toBe('zero');
  });

  it('answers synchronously once loaded when the function is synchronous', async () => {
    const transform = js();
    await run(transform, [{ n: 1 }]);
    const result = transform.process([], { reject: () => undefined });
    expect(Array.isArray(result)).toBe(true);
  });

  it('rejects a record for which the function returns something that is not a value', async () => {
    const { out, rejected } = await run(js('giveFunction'), [{ n: 1 }]);
    expect(out).toEqual([]);
    expect((rejected[0]!.error as Error).message).toBe('js: the function returned a function, not a JSON value');
  });

  it('fails with a clear error when the export is not a function', async () => {
    await expect(run(js('notAFunction'), [{}])).rejects.toThrow(/has no exported function 'notAFunction' \(functions: .*dropOdd/);
  });

  it('fails with a clear error when the module cannot be loaded', async () => {
    const transform = jsDefinition.create({ module: '/nonexistent/fn.mjs' });
    await expect(run(transform, [{}])).rejects.toThrow(/^js: cannot load module \/nonexistent\/fn\.mjs/);
  });

  it('check() reports a module file that does not exist', () => {
    expect(jsDefinition.check!({ module: '/nonexistent/fn.mjs' })).toEqual([{ path: 'module', message: 'module not found: /nonexistent/fn.mjs' }]);
    expect(jsDefinition.check!({ module })).toEqual([]);
  });

  it('marks module as a path relative to the pipeline file in its schema', () => {
    const properties = jsDefinition.schema['properties'] as Record<string, Record<string, unknown>>;
    expect(properties['module']!['x-wire-pipeline-relative']).toBe(true);
  });
});
