// The mongodb source's relaxed extended JSON (src/connectors/mongodb/relaxed-json.ts) gives what the bson library's
// `EJSON.serialize(value, { relaxed: true })` gives, for documents as the driver reads them and for hostile values;
// `relaxedJsonOwned` gives the same, copying only the parts that change.
import { deepStrictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import { BSON } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { canonicalId, relaxedId, relaxedJson, relaxedJsonOwned } from '../../src/connectors/mongodb/relaxed-json.js';

const { EJSON } = BSON;
const reference = (value: unknown): unknown => EJSON.serialize(value, { relaxed: true });
// Node's deep equality, not vitest's: vitest compares the `constructor` property, which a field may be called.
const same = (actual: unknown, expected: unknown): void => deepStrictEqual(actual, expected);

/** A value of every kind BSON holds, with the odd numbers and field names. */
const leaf: fc.Arbitrary<unknown> = fc.oneof(
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.constantFrom(-0, Number.NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 31) - 1),
  fc.date({ min: new Date(-1e14), max: new Date(3e14), noInvalidDate: true }),
  fc.uint8Array({ maxLength: 8 }).map((bytes) => new BSON.Binary(bytes)),
  fc.constant(new BSON.ObjectId('65a1b2c3d4e5f60718293a4b')),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => BSON.Long.fromBigInt(n)),
  fc.constant(BSON.Decimal128.fromString('1.5E-3')),
  fc.constant(new BSON.Timestamp({ t: 5, i: 7 })),
  fc.integer().map((n) => new BSON.Int32(n)),
  fc.double().map((n) => new BSON.Double(n)),
  fc.constant(new BSON.BSONRegExp('a+', 'i')),
  fc.constant(new BSON.MinKey()),
);
const key = fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', '$date', '0', '10', 'toJSON'));
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: 'small' }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('tree'), { maxLength: 4 }),
  object: fc.dictionary(key, tie('tree'), { maxKeys: 4 }),
}));

describe('mongodb relaxed extended JSON', () => {
  it('equals EJSON.serialize for any value made of BSON types', () => {
    fc.assert(
      fc.property(tree, (value) => {
        same(relaxedJson(value, EJSON), reference(value));
      }),
      { seed: 13, numRuns: 2000 },
    );
  });

  it('equals EJSON.serialize for documents as the driver reads them (BSON written and read back)', () => {
    fc.assert(
      fc.property(fc.dictionary(key, tree, { maxKeys: 6 }), (fields) => {
        const document = BSON.deserialize(BSON.serialize(fields));
        same(relaxedJson(document, EJSON), reference(document));
      }),
      { seed: 13, numRuns: 1000 },
    );
  });

  it('equals EJSON.serialize without copying (relaxedJsonOwned), for any value and for documents as the driver reads them', () => {
    fc.assert(
      fc.property(tree, (value) => {
        same(relaxedJsonOwned(value, EJSON), reference(value));
      }),
      { seed: 13, numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.dictionary(key, tree, { maxKeys: 6 }), (fields) => {
        const document = BSON.deserialize(BSON.serialize(fields));
        same(relaxedJsonOwned(document, EJSON), reference(document));
      }),
      { seed: 13, numRuns: 1000 },
    );
  });

  it('answers a plain document with itself, and copies only the objects and arrays with a part to change', () => {
    const plain = BSON.deserialize(BSON.serialize({ _id: 1, name: 'a', tags: ['x', 'y'], nested: { n: 2.5, ok: true, none: null } }));
    expect(relaxedJsonOwned(plain, EJSON)).toBe(plain);
    const mixed = BSON.deserialize(BSON.serialize({ _id: new BSON.ObjectId('65a1b2c3d4e5f60718293a4b'), nested: { n: 1 }, list: [1, new Date(0)], keep: [2] }));
    const out = relaxedJsonOwned(mixed, EJSON) as Record<string, unknown>;
    same(out, reference(mixed));
    expect(out).not.toBe(mixed);
    expect(out.nested).toBe(mixed.nested);
    expect(out.keep).toBe(mixed.keep);
    expect(out.list).not.toBe(mixed.list);
    expect(mixed.list).toEqual([1, new Date(0)]);
  });

  it('changes without copying what the round trip changes: -0, holes, a prototype-less object', () => {
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
    // eslint-disable-next-line no-sparse-arrays
    const value = { z: -0, list: [1, , 3], bare };
    const out = relaxedJsonOwned(value, EJSON) as Record<string, unknown>;
    same(out, reference(value));
    expect(Object.is((out as { z: number }).z, 0)).toBe(true);
    expect(Object.getPrototypeOf(out.bare)).toBe(Object.prototype);
  });

  it('keeps a __proto__ field as a field, as JSON.parse does, and leaves the prototype alone', () => {
    const value = JSON.parse('{"__proto__": {"polluted": 1}, "a": 1}') as unknown;
    const out = relaxedJson(value, EJSON) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'a']);
    same(out, reference(value));
  });

  it('writes undefined as null and -0 as 0, and leaves out functions and symbols, as the round trip does', () => {
    const value = { u: undefined, z: -0, f: () => 1, s: Symbol('s'), list: [undefined, () => 1, Symbol('t'), -0] };
    same(relaxedJson(value, EJSON), reference(value));
    same(relaxedJson(value, EJSON), { u: null, z: 0, list: [null, null, null, 0] });
  });

  it('refuses a document whose _bsontype is not a BSON type, as EJSON.serialize does', () => {
    const value = { nested: { _bsontype: 'Nothing', value: 1 } };
    expect(() => reference(value)).toThrow();
    expect(() => relaxedJson(value, EJSON)).toThrow();
  });

  it('writes _ids as EJSON.stringify does, canonical (load positions) and relaxed (record keys)', () => {
    const id = fc.oneof(tree, fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), fc.constant(new BSON.ObjectId()));
    fc.assert(
      fc.property(id, (value) => {
        expect(canonicalId(value, EJSON)).toBe(EJSON.stringify(value, { relaxed: false }));
        expect(relaxedId(value, EJSON)).toBe(EJSON.stringify(value, { relaxed: true }));
      }),
      { seed: 13, numRuns: 2000 },
    );
  });
});
