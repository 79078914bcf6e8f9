import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WireRecord } from '../../src/core/record.js';
import { mapDefinition } from '../../src/transforms/map.js';
import { run, runRecords } from './helpers.js';

type MapConfig = Parameters<typeof mapDefinition.create>[0];
const map = (config: MapConfig) => mapDefinition.create(config);

describe('map', () => {
  it('sets fields from expressions', async () => {
    const { out } = await run(map({ set: { user: 'upper(user)', total: 'amount * 2' } }), [{ user: 'ada', amount: 5 }]);
    expect(out[0]!.value).toEqual({ user: 'ADA', amount: 5, total: 10 });
  });

  it('evaluates every expression against the input before assigning any', async () => {
    const { out } = await run(map({ set: { a: 'b', b: 'a' } }), [{ a: 1, b: 2 }]);
    expect(out[0]!.value).toEqual({ a: 2, b: 1 });
  });

  it('creates the objects a nested path needs, and replaces a null on the way', async () => {
    const { out } = await run(map({ set: { 'x.y.z': '1', 'n.m': '"v"' } }), [{ n: null }]);
    expect(out[0]!.value).toEqual({ x: { y: { z: 1 } }, n: { m: 'v' } });
  });

  it('writes into existing nested objects without losing their other fields', async () => {
    const { out } = await run(map({ set: { 'a.c': '2' } }), [{ a: { b: 1 } }]);
    expect(out[0]!.value).toEqual({ a: { b: 1, c: 2 } });
  });

  it('removes fields, nested ones too, and ignores missing ones', async () => {
    const { out } = await run(map({ remove: ['a', 'b.c', 'nope', 'x.y.z'] }), [{ a: 1, b: { c: 2, d: 3 }, e: 4 }]);
    expect(out[0]!.value).toEqual({ b: { d: 3 }, e: 4 });
  });

  it('renames fields, moving them between levels', async () => {
    const { out } = await run(map({ rename: { ts: 'meta.timestamp', 'u.name': 'user', gone: 'never' } }), [{ ts: 1, u: { name: 'a', id: 2 } }]);
    expect(out[0]!.value).toEqual({ meta: { timestamp: 1 }, u: { id: 2 }, user: 'a' });
  });

  it('applies set, then rename, then remove', async () => {
    const { out } = await run(map({ set: { a: '"new"' }, rename: { a: 'b' }, remove: ['c'] }), [{ a: 'old', c: 1 }]);
    expect(out[0]!.value).toEqual({ b: 'new' });
  });

  it('copies an object it sets from elsewhere in the value, so the two never change together', async () => {
    const { out } = await run(map({ set: { copy: 'orig' } }), [{ orig: { x: 1 } }]);
    const value = out[0]!.value as { orig: { x: number }; copy: { x: number } };
    value.copy.x = 2;
    expect(value.orig.x).toBe(1);
  });

  it('marks the record changed so its raw bytes are not reused', async () => {
    const { out } = await runRecords(map({ set: { b: 'a + 1' } }), [WireRecord.fromRaw('{"a":1}')]);
    expect(out[0]!.raw).toBeUndefined();
    expect(out[0]!.json()).toBe('{"a":1,"b":2}');
  });

  it('rejects a record whose expression fails and leaves it unchanged', async () => {
    const { out, rejected } = await run(map({ set: { ok: '1', bad: 'upper(n)' } }), [{ n: 1 }, { n: 'x' }]);
    expect(out.map((r) => r.value)).toEqual([{ n: 'x', ok: 1, bad: 'X' }]);
    expect(rejected[0]!.record.value).toEqual({ n: 1 });
  });

  it('rejects, unchanged, a record where a path runs through a value that is not an object', async () => {
    const { out, rejected } = await run(map({ set: { ok: '1', 'a.b': '2' } }), [{ a: 5 }, { a: {} }]);
    expect(out.map((r) => r.value)).toEqual([{ a: { b: 2 }, ok: 1 }]);
    expect(rejected[0]!.record.value).toEqual({ a: 5 });
    expect((rejected[0]!.error as Error).message).toBe("cannot set 'a.b': 'a' is number, not an object");
  });

  it('rejects a value that is not an object', async () => {
    const { rejected } = await run(map({ set: { a: '1' } }), ['text', [1]]);
    expect(rejected.map((r) => (r.error as Error).message)).toEqual([
      'map needs an object value, got string (to read text as JSON, start the map with value: parse_json(this))',
      'map needs an object value, got array',
    ]);
  });

  it('value replaces the whole value first: parse_json makes a text record (format: lines) an object', async () => {
    const { out, rejected } = await runRecords(map({ value: 'parse_json(this)', set: { total: 'amount * 2' } }), [
      WireRecord.fromText('{"amount": 5}'),
    ]);
    expect(rejected).toEqual([]);
    expect(out[0]!.value).toEqual({ amount: 5, total: 10 });
    expect(out[0]!.json()).toBe('{"amount":5,"total":10}');
  });

  it('value alone may give any value, a string included', async () => {
    const { out } = await run(map({ value: 'user.name' }), [{ user: { name: 'ada' } }]);
    expect(out[0]!.value).toBe('ada');
    expect(out[0]!.json()).toBe('"ada"');
  });

  it('a record whose text is not JSON goes to on_error, unchanged', async () => {
    const { out, rejected } = await runRecords(map({ value: 'parse_json(this)', set: { a: '1' } }), [WireRecord.fromText('not json')]);
    expect(out).toEqual([]);
    expect(rejected[0]!.record.value).toBe('not json');
    expect((rejected[0]!.error as Error).message).toMatch(/^parse_json\(\) cannot parse its text as JSON \(.+\) at column 1$/);
  });

  it('with set after it, value must give an object', async () => {
    const { rejected } = await run(map({ value: 'tags', set: { a: '1' } }), [{ tags: [1] }]);
    expect((rejected[0]!.error as Error).message).toBe('map needs an object value, got array');
  });

  it('never writes to a prototype, even from a crafted config', () => {
    expect(() => map({ set: { '__proto__.polluted': '1' } })).toThrow("'__proto__' cannot be used as a field name");
    expect(() => map({ rename: { a: 'constructor.prototype.x' } })).toThrow("'constructor' cannot be used as a field name");
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('check() reports each bad expression and path with its place', () => {
    expect(
      mapDefinition.check!({ set: { total: 'amount * ', 'a..b': '1' }, remove: ['ok', ''], rename: { x: '__proto__' } }),
    ).toEqual([
      { path: 'set.total', message: 'unexpected end of expression at column 10', column: 10 },
      { path: 'set.a..b', message: "'a..b' has an empty segment" },
      { path: 'remove[1]', message: 'a field path cannot be empty' },
      { path: 'rename.x', message: "'__proto__' cannot be used as a field name" },
    ]);
  });

  it('check() wants at least one of value, set, remove, rename', () => {
    expect(mapDefinition.check!({})).toEqual([{ path: '', message: 'map needs at least one of value, set, remove or rename' }]);
  });

  it('check() reports a bad value expression', () => {
    expect(mapDefinition.check!({ value: 'parse_json(' })).toEqual([
      { path: 'value', message: 'unexpected end of expression at column 12', column: 12 },
    ]);
  });

  it('sets any key to any JSON value it reads (property)', async () => {
    const key = fc.string({ minLength: 1 }).filter((k) => !k.includes('.') && !['__proto__', 'constructor', 'prototype'].includes(k));
    await fc.assert(
      fc.asyncProperty(key, fc.jsonValue(), async (k, v) => {
        const { out } = await run(map({ set: { [k]: 'src' } }), [{ src: v }]);
        return JSON.stringify((out[0]!.value as Record<string, unknown>)[k]) === JSON.stringify(v ?? null);
      }),
      { seed: 7, numRuns: 200 },
    );
  });
});
