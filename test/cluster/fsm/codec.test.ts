import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalize, decodeCanonical, encodeCanonical, jsonCopy, MAX_DEPTH, packr } from '../../../src/cluster/codec.js';
import { WireError } from '../../../src/core/errors.js';

/** The canonical form spelled out the slow way: every object copied with its keys sorted, undefined fields left out. */
function sortedDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedDeep);
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const field = (value as Record<string, unknown>)[key];
    if (field !== undefined) out[key] = sortedDeep(field);
  }
  return out;
}

/** JSON values whose objects may hold undefined fields, keys in any order (with `integerKeys`, keys like '9' and '10' too). */
const storable = (integerKeys: boolean) =>
  fc.letrec((tie) => ({
    value: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), tie('array'), tie('object')),
    array: fc.array(tie('value'), { maxLength: 4 }),
    object: fc.dictionary(
      integerKeys ? fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('10', '9', 'a', 'B')) : fc.string({ maxLength: 4 }).filter((k) => !/^\d/.test(k)),
      fc.option(tie('value'), { nil: undefined }),
      { maxKeys: 5 },
    ),
  })).value;

const refusal = (value: unknown): WireError => {
  try {
    canonicalize(value);
  } catch (error) {
    if (error instanceof WireError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
};

describe('the canonical encoding', () => {
  it('encodes any JSON value to the bytes of its sorted copy, whatever the order of its keys', () => {
    fc.assert(
      fc.property(storable(true), (value) => {
        expect(Buffer.compare(encodeCanonical(value), packr.pack(sortedDeep(value)))).toBe(0);
      }),
      { seed: 11, numRuns: 500 },
    );
  });

  // JavaScript enumerates integer-like keys first, in numeric order, whatever the order they were set in: an object
  // with such keys is copied each time (to the same bytes).
  it('returns a value already canonical as it is, without copying it', () => {
    fc.assert(
      fc.property(storable(false), (value) => {
        const once = canonicalize(value);
        expect(canonicalize(once)).toBe(once);
        const decoded = decodeCanonical(packr.pack(once), 'test');
        expect(canonicalize(decoded)).toBe(decoded);
      }),
      { seed: 12, numRuns: 300 },
    );
  });

  it('copies an object whose keys are out of order or that holds an undefined field, and leaves the value given unchanged', () => {
    const inner = { y: 2, x: 1 };
    const given = { b: [inner], a: 1, c: undefined };
    const out = canonicalize(given) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['a', 'b']);
    expect(Object.keys((out['b'] as Array<Record<string, unknown>>)[0]!)).toEqual(['x', 'y']);
    expect(Object.keys(given)).toEqual(['b', 'a', 'c']);
    expect(Object.keys(inner)).toEqual(['y', 'x']);
  });

  it('names the path of what it refuses', () => {
    expect(refusal({ a: [1, { b: Number.NaN }] }).message).toBe('$.a[1].b: NaN is not a finite number');
    expect(refusal({ a: [1, { b: Number.NaN }] }).details).toEqual({ path: '$.a[1].b' });
    expect(refusal({ z: 1, a: { when: new Date(0) } }).message).toBe('$.a.when: a Date object cannot be stored (JSON values only)');
    expect(refusal([undefined]).message).toBe('$[0]: a undefined value cannot be stored (JSON values only)');
    expect(refusal(JSON.parse('{"x":{"__proto__":1}}')).message).toBe('$.x: the key __proto__ cannot be stored');
    expect(refusal(new Map()).message).toBe('$: a Map object cannot be stored (JSON values only)');
  });

  it('refuses a value nested deeper than the limit, naming where', () => {
    let deep: unknown = 1;
    for (let i = 0; i <= MAX_DEPTH; i++) deep = [deep];
    const error = refusal(deep);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.message).toBe(`$${'[0]'.repeat(MAX_DEPTH + 1)}: nested deeper than ${MAX_DEPTH} levels`);
  });
});

describe('jsonCopy', () => {
  /** Values JSON changes on the way too: Dates, NaN and infinities, undefined in arrays and objects, -0. */
  const anything = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constant(null),
      fc.boolean(),
      fc.double(),
      fc.constant(-0),
      fc.string(),
      fc.constant(undefined),
      fc.date({ noInvalidDate: true }),
      tie('array'),
      tie('object'),
    ),
    array: fc.array(tie('value'), { maxLength: 4 }),
    object: fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 5 }),
  })).value;

  it('copies any value as JSON does, with its object keys sorted', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 4 }), anything, { maxKeys: 6 }), (value) => {
        const copy = jsonCopy(value);
        expect(copy).toStrictEqual(JSON.parse(JSON.stringify(value)));
        expect(Buffer.compare(packr.pack(copy), encodeCanonical(JSON.parse(JSON.stringify(value))))).toBe(0);
      }),
      { seed: 13, numRuns: 500 },
    );
  });

  it('shares nothing with the value copied', () => {
    const sink = { length: 10, parts: [1, { at: 2 }] };
    const copy = jsonCopy({ position: 5, sink }) as { sink: typeof sink };
    sink.length = 99;
    (sink.parts[1] as { at: number }).at = 7;
    expect(copy.sink).toEqual({ length: 10, parts: [1, { at: 2 }] });
  });
});
