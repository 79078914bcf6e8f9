import { describe, expect, it } from 'vitest';
import { caught, evaluate } from './helpers.js';

const v = { n: 10, s: 'abc', t: true, f: false, z: 0, e: '', list: [1, 'x', { k: 1 }], obj: { k: 'v' }, nul: null };

describe('arithmetic', () => {
  it.each([
    ['n + 5', 15],
    ['n - 15', -5],
    ['n * 2.5', 25],
    ['n / 4', 2.5],
    ['n % 3', 1],
    ['-n', -10],
    ['s + "def"', 'abcdef'],
    ['"" + s', 'abc'],
  ])('%s = %j', (source, expected) => {
    expect(evaluate(source, v)).toBe(expected);
  });

  it.each([['missing + 1'], ['1 - nul'], ['nul * 2'], ['missing / 2'], ['n % missing'], ['-missing'], ['s + nul']])(
    '%s is null: null goes through arithmetic',
    (source) => {
      expect(evaluate(source, v)).toBeNull();
    },
  );

  it.each([
    ['s + n', "'+' needs two numbers or two strings, got string and number at column 3", 3],
    ['n + t', "'+' needs two numbers or two strings, got number and boolean at column 3", 3],
    ['list + list', "'+' needs two numbers or two strings, got array and array at column 6", 6],
    ['s - 1', "'-' needs two numbers, got string and number at column 3", 3],
    ['n * s', "'*' needs two numbers, got number and string at column 3", 3],
    ['obj / 2', "'/' needs two numbers, got object and number at column 5", 5],
    ['n / z', "'/' divides by zero at column 3", 3],
    ['n % z', "'%' divides by zero at column 3", 3],
    ['-s', "'-' needs a number, got string at column 1", 1],
  ])('%s fails at run time: %s', (source, message, column) => {
    const err = caught(() => evaluate(source, v));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toBe(message);
    expect(err.details['column']).toBe(column);
  });
});

describe('comparisons', () => {
  it.each([
    ['n == 10', true],
    ['n != 10', false],
    ['10 == n', true],
    ['s == "abc"', true],
    ['n == "10"', false],
    ['obj == obj', true],
    ['list == list', true],
    ['nul == null', true],
    ['missing == null', true],
    ['missing == nul', true],
    ['null == missing', true],
    ['z == null', false],
    ['e == null', false],
    ['n > 9', true],
    ['n >= 10', true],
    ['n < 10', false],
    ['n <= 10', true],
    ['9 < n', true],
    ['s < "abd"', true],
    ['s > "ab"', true],
    ['"b" >= s', true],
    ['missing > 1', false],
    ['missing < 1', false],
    ['nul <= 1', false],
    ['1 >= missing', false],
  ])('%s is %s', (source, expected) => {
    expect(evaluate(source, v)).toBe(expected);
  });

  it('compares arrays and objects by content', () => {
    const value = { a: [1, { b: [2] }], c: [1, { b: [2] }], d: [1, { b: [3] }], o: { x: 1, y: 2 }, p: { y: 2, x: 1 }, q: { x: 1 } };
    expect(evaluate('a == c', value)).toBe(true);
    expect(evaluate('a == d', value)).toBe(false);
    expect(evaluate('a != d', value)).toBe(true);
    expect(evaluate('o == p', value)).toBe(true);
    expect(evaluate('o == q', value)).toBe(false);
    expect(evaluate('o == a', value)).toBe(false);
    expect(evaluate('a == [1, 2]', value)).toBe(false);
  });

  it.each([
    ['n > s', "'>' cannot compare number with string at column 3"],
    ['s < 5', "'<' cannot compare string with number at column 3"],
    ['t >= f', "'>=' cannot compare boolean with boolean at column 3"],
    ['list <= list', "'<=' cannot compare array with array at column 6"],
  ])('%s fails: %s', (source, message) => {
    expect(caught(() => evaluate(source, v)).message).toBe(message);
  });
});

describe('logic', () => {
  it.each([
    ['t and t', true],
    ['t and f', false],
    ['f or t', true],
    ['f or f', false],
    ['not t', false],
    ['not not t', true],
    ['not z', true],
    ['not e', true],
    ['not nul', true],
    ['not missing', true],
    ['not list', false],
    ['not obj', false],
    ['not []', false],
    ['n and s', true],
    ['z or e', false],
  ])('%s is %s', (source, expected) => {
    expect(evaluate(source, v)).toBe(expected);
  });

  it('short-circuits: the right side of and/or is not evaluated when not needed', () => {
    expect(evaluate('f and upper(n) == "x"', v)).toBe(false);
    expect(evaluate('t or upper(n) == "x"', v)).toBe(true);
    expect(() => evaluate('t and upper(n) == "x"', v)).toThrow('upper() expects a string, got number at column 7');
  });

  it.each([
    ['missing ?? "d"', 'd'],
    ['nul ?? 1', 1],
    ['z ?? 1', 0],
    ['e ?? "d"', ''],
    ['f ?? true', false],
    ['missing ?? nul ?? 3', 3],
  ])('%s = %j: ?? replaces only null', (source, expected) => {
    expect(evaluate(source, v)).toBe(expected);
  });

  it.each([
    ['t ? "y" : "n"', 'y'],
    ['z ? "y" : "n"', 'n'],
    ['missing ? "y" : "n"', 'n'],
    ['list ? "y" : "n"', 'y'],
    ['n > 5 ? n * 2 : n', 20],
  ])('%s = %j', (source, expected) => {
    expect(evaluate(source, v)).toBe(expected);
  });

  it('evaluates only the chosen branch', () => {
    expect(evaluate('t ? 1 : upper(n)', v)).toBe(1);
  });
});

describe('in', () => {
  it.each([
    ['1 in list', true],
    ['"x" in list', true],
    ['2 in list', false],
    ['n in [1, 10, 100]', true],
    ['s in ["abc", "def"]', true],
    ['missing in [null]', true],
    ['missing in [1]', false],
    ['obj in [1, 2]', false],
    ['obj.k in ["v"]', true],
    ['"b" in s', true],
    ['"z" in s', false],
    ['"" in s', true],
    ['missing in s', false],
    ['"k" in obj', true],
    ['"v" in obj', false],
    ['"constructor" in obj', false],
    ['"__proto__" in obj', false],
    ['missing in obj', false],
    ['1 in missing', false],
    ['n in [n, 1]', true],
  ])('%s is %s', (source, expected) => {
    expect(evaluate(source, v)).toBe(expected);
  });

  it('compares list items by content', () => {
    expect(evaluate('obj in [1, obj]', v)).toBe(true);
    expect(evaluate('list[2] in list', v)).toBe(true);
  });

  it.each([
    ['1 in n', "'in' needs an array, a string or an object on its right, got number at column 3"],
    ['1 in s', "'in' needs a string on its left to search text, got number at column 3"],
    ['1 in obj', "'in' needs a string key on its left to search an object, got number at column 3"],
    ['"a" in t', "'in' needs an array, a string or an object on its right, got boolean at column 5"],
  ])('%s fails: %s', (source, message) => {
    expect(caught(() => evaluate(source, v)).message).toBe(message);
  });
});
