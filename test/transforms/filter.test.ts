import { describe, expect, it } from 'vitest';
import { WireRecord } from '../../src/core/record.js';
import { filterDefinition } from '../../src/transforms/filter.js';
import { run, runRecords } from './helpers.js';

const filter = (expr: string) => filterDefinition.create({ expr });

describe('filter', () => {
  it('keeps the records for which the expression is true, in order', async () => {
    const { out, rejected } = await run(filter('amount > 100'), [{ amount: 50 }, { amount: 150 }, { amount: 101 }, { amount: 100 }]);
    expect(out.map((r) => r.value)).toEqual([{ amount: 150 }, { amount: 101 }]);
    expect(rejected).toEqual([]);
  });

  it('drops records whose result is false, null, 0 or ""', async () => {
    const { out } = await run(filter('x'), [{ x: false }, { x: null }, {}, { x: 0 }, { x: '' }, { x: 'y' }, { x: [] }, { x: 1 }]);
    expect(out.map((r) => r.value)).toEqual([{ x: 'y' }, { x: [] }, { x: 1 }]);
  });

  it('passes the very record objects through, unchanged and unparsed values untouched', async () => {
    const raw = WireRecord.fromRaw('{"amount": 500}');
    const { out } = await runRecords(filter('amount > 1'), [raw]);
    expect(out[0]).toBe(raw);
    expect(out[0]!.raw).toBe('{"amount": 500}');
  });

  it('rejects a record whose expression fails, and goes on with the batch', async () => {
    const { out, rejected } = await run(filter('upper(name) == "A"'), [{ name: 'a' }, { name: 5 }, { name: 'b' }, { name: 'a' }]);
    expect(out).toHaveLength(2);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.record.value).toEqual({ name: 5 });
    expect((rejected[0]!.error as Error).message).toBe('upper() expects a string, got number at column 1');
  });

  it('rejects a record whose raw JSON is malformed', async () => {
    const bad = WireRecord.fromRaw('{"amount": ');
    const { out, rejected } = await runRecords(filter('amount > 1'), [bad, WireRecord.fromRaw('{"amount": 2}')]);
    expect(out).toHaveLength(1);
    expect(rejected[0]!.record).toBe(bad);
    expect((rejected[0]!.error as Error).message).toMatch(/^malformed JSON/);
  });

  it('returns an empty batch for an empty batch', async () => {
    expect((await run(filter('true'), [])).out).toEqual([]);
  });

  it('check() names the column of a bad expression', () => {
    expect(filterDefinition.check!({ expr: 'amount > )' })).toEqual([
      { path: 'expr', message: "unexpected token ')' at column 10", column: 10 },
    ]);
    expect(filterDefinition.check!({ expr: 'amount > 1' })).toEqual([]);
  });

  it('create() refuses a bad expression', () => {
    expect(() => filter('uper(x)')).toThrow("unknown function 'uper' at column 1 (did you mean 'upper'?)");
  });
});
