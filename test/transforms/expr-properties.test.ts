import fc from 'fast-check';
import { describe, it } from 'vitest';
import { compileExpression } from '../../src/transforms/expr/index.js';
import { WireError } from '../../src/core/errors.js';

const SEED = { seed: 20261127, numRuns: 300 };

/** JSON string literal in expression syntax (JSON escapes are valid expression escapes but for '/'). */
const literal = (s: string): string => JSON.stringify(s).replace(/\\\//g, '/');

describe('expression properties', () => {
  it('a string literal evaluates to itself', () => {
    fc.assert(fc.property(fc.string(), (s) => compileExpression(literal(s))({}) === s), SEED);
  });

  it('a number literal evaluates to itself', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: 0 }), (n) => {
        return Object.is(compileExpression(String(n).replace('Infinity', '1'))({}), Number(String(n).replace('Infinity', '1')));
      }),
      SEED,
    );
  });

  it('arithmetic on fields matches JavaScript on numbers', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: -1e6, max: 1e6 }).filter((b) => b !== 0), (a, b) => {
        const value = { a, b };
        return (
          compileExpression('a + b')(value) === a + b &&
          compileExpression('a - b * 2')(value) === a - b * 2 &&
          compileExpression('a % b')(value) === a % b &&
          compileExpression('a / b')(value) === a / b
        );
      }),
      SEED,
    );
  });

  it('comparisons agree with each other and with JavaScript', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(fc.integer(), fc.integer()), fc.tuple(fc.string(), fc.string())), ([a, b]) => {
        const value = { a, b };
        const lt = compileExpression('a < b')(value);
        return (
          lt === a < b &&
          compileExpression('a >= b')(value) === !lt &&
          compileExpression('a == b')(value) === (a === b) &&
          compileExpression('a != b')(value) === (a !== b)
        );
      }),
      SEED,
    );
  });

  it('upper, lower and len agree with JavaScript on any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        return (
          compileExpression('upper(s)')({ s }) === s.toUpperCase() &&
          compileExpression('lower(s)')({ s }) === s.toLowerCase() &&
          compileExpression('len(s)')({ s }) === s.length
        );
      }),
      SEED,
    );
  });

  it('join(split(s, sep), sep) gives s back', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1, maxLength: 3 }), (s, sep) => {
        return compileExpression('join(split(s, sep), sep)')({ s, sep }) === s;
      }),
      SEED,
    );
  });

  it('a field path returns the value stored at it, for any key', () => {
    fc.assert(
      fc.property(fc.string(), fc.jsonValue(), (key, stored) => {
        const value = JSON.parse(JSON.stringify({ outer: { [key]: stored } })) as unknown;
        const read = compileExpression(`outer[${literal(key)}]`)(value);
        return JSON.stringify(read) === JSON.stringify(stored ?? null);
      }),
      SEED,
    );
  });

  it('x in list is true exactly when the list holds x', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 })), fc.integer({ min: 0, max: 20 }), (list, x) => {
        return compileExpression('x in list')({ x, list }) === list.includes(x);
      }),
      SEED,
    );
  });

  it('any text either compiles or fails with a WireError naming a column inside it', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30, unit: fc.constantFrom(...'ab1 .()[]"+-*/%<=>!?:,&|'.split('')) }), (src) => {
        try {
          compileExpression(src);
          return true;
        } catch (err) {
          if (!(err instanceof WireError)) return false;
          const column = err.details['column'] as number;
          return err.code === 'INVALID_INPUT' && column >= 1 && column <= src.length + 1;
        }
      }),
      SEED,
    );
  });

  it('evaluating never throws anything but a WireError, on any JSON value', () => {
    const expressions = ['a + b', 'upper(a)', 'a > b', 'a in b', 'len(a)', 'round(a, 2)', 'a[b]', 'to_number(a)', 'split(a, b)', 'concat(a, b)'].map(
      (e) => compileExpression(e),
    );
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        for (const f of expressions) {
          try {
            const r = f({ a, b });
            if (r === undefined) return false;
          } catch (err) {
            if (!(err instanceof WireError)) return false;
          }
        }
        return true;
      }),
      SEED,
    );
  });

  it('does not change the value it reads', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const before = JSON.stringify(value);
        for (const e of ['this', 'a.b', 'this == this', 'exists(a)', 'to_string(this)']) compileExpression(e)(value);
        return JSON.stringify(value) === before;
      }),
      SEED,
    );
  });
});
