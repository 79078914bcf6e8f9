import { describe, expect, it } from 'vitest';
import { WireRecord } from '../../src/core/record.js';
import { checkKeyTemplate, compileKeyTemplate } from '../../src/connectors/key-template.js';

describe('redis key templates', () => {
  it('fills {key}, {id} and {value.path} from each record', () => {
    const record = new WireRecord({ value: { user: { id: 42 }, name: 'ada' }, key: 'k1', id: 'r1' });
    expect(compileKeyTemplate('u:{value.user.id}:{value.name}/{key}/{id}')(record)).toBe('u:42:ada/k1/r1');
    expect(compileKeyTemplate('fixed')(record)).toBe('fixed');
  });

  it('refuses a record without what the template names', () => {
    expect(() => compileKeyTemplate('{key}')(WireRecord.fromValue({}))).toThrow(/has no key/);
    expect(() => compileKeyTemplate('o:{value.id}')(WireRecord.fromValue({ id: { nested: 1 } }))).toThrow(/no string or number/);
  });

  it('reports an unknown placeholder with its column', () => {
    expect(checkKeyTemplate('a:{nope}', 'key')).toEqual([
      { path: 'key', message: 'unknown placeholder {nope}: use {key}, {id} or {value.field}', column: 2 },
    ]);
    expect(checkKeyTemplate('{key}:{id}:{value.a.b}', 'key')).toEqual([]);
  });
});
