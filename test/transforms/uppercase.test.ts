import { describe, expect, it } from 'vitest';
import { WireRecord } from '../../src/core/record.js';
import { uppercaseDefinition } from '../../src/transforms/uppercase.js';
import { run, runRecords } from './helpers.js';

describe('uppercase', () => {
  it('uppercases every top-level string field when no fields are given', async () => {
    const { out } = await run(uppercaseDefinition.create({}), [{ a: 'x', b: 1, c: { d: 'y' }, e: ['z'], f: 'ß' }]);
    expect(out[0]!.value).toEqual({ a: 'X', b: 1, c: { d: 'y' }, e: ['z'], f: 'SS' });
  });

  it('uppercases only the given fields, nested paths included', async () => {
    const { out } = await run(uppercaseDefinition.create({ fields: ['a', 'c.d', 'missing', 'b'] }), [{ a: 'x', b: 1, c: { d: 'y' }, g: 'keep' }]);
    expect(out[0]!.value).toEqual({ a: 'X', b: 1, c: { d: 'Y' }, g: 'keep' });
  });

  it('uppercases a value that is itself a string (a line of text)', async () => {
    const { out } = await runRecords(uppercaseDefinition.create({}), [WireRecord.fromText('hello')]);
    expect(out[0]!.value).toBe('HELLO');
    expect(out[0]!.text()).toBe('HELLO');
  });

  it('marks a changed record so sinks do not reuse its raw bytes', async () => {
    const { out } = await runRecords(uppercaseDefinition.create({}), [WireRecord.fromRaw('{"a":"x"}')]);
    expect(out[0]!.raw).toBeUndefined();
    expect(out[0]!.json()).toBe('{"a":"X"}');
  });

  it('leaves a record with no string field as it came (raw kept)', async () => {
    const { out } = await runRecords(uppercaseDefinition.create({}), [WireRecord.fromRaw('{"a":1}')]);
    expect(out[0]!.raw).toBe('{"a":1}');
  });

  it('passes numbers and arrays through unchanged', async () => {
    const { out } = await run(uppercaseDefinition.create({}), [5, ['a']]);
    expect(out.map((r) => r.value)).toEqual([5, ['a']]);
  });

  it('rejects a record whose raw JSON is malformed', async () => {
    const { out, rejected } = await runRecords(uppercaseDefinition.create({}), [WireRecord.fromRaw('{'), WireRecord.fromRaw('{"a":"b"}')]);
    expect(out).toHaveLength(1);
    expect(rejected).toHaveLength(1);
  });

  it('check() refuses a field path that would reach a prototype', () => {
    expect(uppercaseDefinition.check!({ fields: ['ok', 'a.__proto__'] })).toEqual([
      { path: 'fields[1]', message: "'__proto__' cannot be used as a field name" },
    ]);
  });
});
