import { describe, expect, it } from 'vitest';
import { keyDefinition } from '../../src/transforms/key.js';
import { run } from './helpers.js';

const key = (expr: string) => keyDefinition.create({ expr });

describe('key', () => {
  it('sets the partition key from the expression, as a string', async () => {
    const { out } = await run(key('customer.id'), [{ customer: { id: 'c1' } }, { customer: { id: 42 } }, { customer: { id: true } }]);
    expect(out.map((r) => r.key)).toEqual(['c1', '42', 'true']);
  });

  it('writes objects and arrays as JSON', async () => {
    const { out } = await run(key('k'), [{ k: { a: 1 } }, { k: [1, 'x'] }]);
    expect(out.map((r) => r.key)).toEqual(['{"a":1}', '[1,"x"]']);
  });

  it('leaves a record without a key when the expression is null', async () => {
    const { out } = await run(key('missing'), [{}]);
    expect(out).toHaveLength(1);
    expect(out[0]!.key).toBeUndefined();
  });

  it('does not change the value', async () => {
    const { out } = await run(key('concat(a, "-", b)'), [{ a: 'x', b: 1 }]);
    expect(out[0]!.key).toBe('x-1');
    expect(out[0]!.value).toEqual({ a: 'x', b: 1 });
  });

  it('rejects a record whose key expression fails', async () => {
    const { out, rejected } = await run(key('lower(a)'), [{ a: 'X' }, { a: 1 }]);
    expect(out.map((r) => r.key)).toEqual(['x']);
    expect((rejected[0]!.error as Error).message).toBe('lower() expects a string, got number at column 1');
  });

  it('check() reports a bad expression with its column', () => {
    expect(keyDefinition.check!({ expr: 'a +' })).toEqual([{ path: 'expr', message: 'unexpected end of expression at column 4', column: 4 }]);
  });
});
