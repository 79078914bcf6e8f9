import { describe, expect, it } from 'vitest';
import { compileExpression } from '../../src/transforms/expr/index.js';
import { compileFailure, evaluate } from './helpers.js';

describe('expression syntax errors name their column', () => {
  it.each([
    ['amount > )', "unexpected token ')' at column 10", 10],
    ['(amount > 1))', "unexpected token ')' at column 13", 13],
    ['amount >', 'unexpected end of expression at column 9', 9],
    ['', 'empty expression at column 1', 1],
    ['   ', 'empty expression at column 1', 1],
    ['"abc', 'unterminated string at column 1', 1],
    ["a == 'x", 'unterminated string at column 6', 6],
    ['a # b', "unexpected character '#' at column 3", 3],
    ['a && b', "unexpected '&&' (use 'and') at column 3", 3],
    ['a || b', "unexpected '||' (use 'or') at column 3", 3],
    ['!a', "unexpected '!' (use 'not') at column 1", 1],
    ['a = 1', "unexpected '=' (use '==' to compare) at column 3", 3],
    ['a < b < c', "comparisons cannot be chained: use 'and' before '<' at column 7", 7],
    ['upper(a', "expected ')' but the expression ended at column 8", 8],
    ['[1, 2', "expected ']' but the expression ended at column 6", 6],
    ['a ? b', "expected ':' but the expression ended at column 6", 6],
    ['a.', "expected a field name after '.' at column 3", 3],
    ['a.1', "expected a field name after '.' but found '1' at column 3", 3],
    ['a.b(1)', 'only built-in functions can be called at column 4', 4],
    ['12abc', "malformed number '12a' at column 1", 1],
    ['1e+', "malformed number '1e+' at column 1", 1],
    ['"\\q"', "unknown escape '\\q' at column 2", 2],
    ['"\\u12"', 'malformed \\u escape (want 4 hex digits) at column 2', 2],
    ['a and', 'unexpected end of expression at column 6', 6],
    ['in', "unexpected token 'in' at column 1", 1],
  ])('%j → %s', (source, message, column) => {
    const err = compileFailure(source);
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toBe(message);
    expect(err.details['column']).toBe(column);
    expect(err.details['expression']).toBe(source);
  });

  it('suggests the nearest function for an unknown one', () => {
    const err = compileFailure('uper(name)');
    expect(err.message).toBe("unknown function 'uper' at column 1 (did you mean 'upper'?)");
    expect(err.details['column']).toBe(1);
  });

  it('gives no suggestion when no function is near', () => {
    expect(compileFailure('a + frobnicate(x)').message).toBe("unknown function 'frobnicate' at column 5");
  });

  it('checks the number of arguments at compile time', () => {
    expect(compileFailure('len()').message).toBe('len() takes 1 argument, got 0 at column 1');
    expect(compileFailure('x + replace(a, b)').message).toBe('replace() takes 3 arguments, got 2 at column 5');
    expect(compileFailure('round(a, 1, 2)').message).toBe('round() takes 1 to 2 arguments, got 3 at column 1');
    expect(compileFailure('now(1)').message).toBe('now() takes no arguments, got 1 at column 1');
    expect(compileFailure('concat()').message).toBe('concat() takes at least 1 argument, got 0 at column 1');
  });

  it('wants a field path inside exists()', () => {
    expect(compileFailure('exists(1)').message).toBe('exists() takes a field path such as a.b or a[0] at column 8');
    expect(compileFailure('exists(a, b)').message).toBe('exists() takes 1 argument, got 2 at column 1');
  });

  it('reports type errors between constants at compile time', () => {
    expect(compileFailure('upper(1)').message).toBe('upper() expects a string, got number at column 1');
    expect(compileFailure('1 / 0').message).toBe("'/' divides by zero at column 3");
  });

  it('refuses a non-string source', () => {
    expect(() => compileExpression(42 as unknown as string)).toThrow('an expression must be a string, got number');
  });
});

describe('expression grammar', () => {
  it.each([
    ['1 + 2 * 3', 7],
    ['(1 + 2) * 3', 9],
    ['10 - 4 - 3', 3],
    ['2 * 3 % 4', 2],
    ['-2 * 3', -6],
    ['- -2', 2],
    ['-(1 + 2)', -3],
    ['1 + 2 == 3', true],
    ['not 1 == 2', true],
    ['not true and false', false],
    ['true or false and false', true],
    ['false ? 1 : 2', 2],
    ['true ? 1 : false ? 2 : 3', 1],
    ['false ? 1 : false ? 2 : 3', 3],
    ['null ?? 1 + 1', 2],
    ['null ?? 2 > 1', true],
    ['1 in [1, 2] and 3 in [3]', true],
    ['[1, 2,]', [1, 2]],
    ['[]', []],
    ['1.5e2', 150],
    ['"a\\n\\t\\"b\\u0041"', 'a\n\t"bA'],
    ["'it''s'", undefined],
  ])('%s', (source, expected) => {
    if (expected === undefined) {
      expect(() => compileExpression(source)).toThrow();
      return;
    }
    expect(evaluate(source)).toEqual(expected);
  });

  it('reads a keyword-named field through this["…"]', () => {
    expect(evaluate('this["and"] + this["in"]', { and: 1, in: 2 })).toBe(3);
  });

  it('accepts fields named like keywords after a dot', () => {
    expect(evaluate('a.in', { a: { in: 5 } })).toBe(5);
  });

  it('returns a fresh array from a constant list each time', () => {
    const f = compileExpression('[1, 2]');
    const first = f({}) as number[];
    first.push(3);
    expect(f({})).toEqual([1, 2]);
  });
});
