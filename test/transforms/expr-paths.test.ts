import { describe, expect, it } from 'vitest';
import { compileExpression } from '../../src/transforms/expr/index.js';
import { evaluate } from './helpers.js';

const order = { id: 7, user: { name: 'ada', tags: ['a', 'b', 'c'] }, 'x y': 1, items: [{ sku: 'k1' }, { sku: 'k2' }] };

describe('field paths', () => {
  it.each([
    ['id', 7],
    ['user.name', 'ada'],
    ['user.tags[0]', 'a'],
    ['user.tags[-1]', 'c'],
    ['user["name"]', 'ada'],
    ['this["x y"]', 1],
    ['items[1].sku', 'k2'],
    ['items[0]["sku"]', 'k1'],
    ['this.user.name', 'ada'],
    ['user.tags[id - 6]', 'b'],
    ['user[concat("na", "me")]', 'ada'],
    ['split("p,q", ",")[1]', 'q'],
  ])('%s reads %j', (source, expected) => {
    expect(evaluate(source, order)).toEqual(expected);
  });

  it('this is the whole value, whatever its type', () => {
    expect(evaluate('this', order)).toBe(order);
    expect(evaluate('this', 'text')).toBe('text');
    expect(evaluate('this', 3)).toBe(3);
    expect(compileExpression('this')(undefined)).toBeNull();
  });

  it.each([
    ['missing'],
    ['user.missing'],
    ['user.name.first'],
    ['user.tags[3]'],
    ['user.tags[-4]'],
    ['user.tags[0.5]'],
    ['user.tags["0"]'],
    ['user[0]'],
    ['id.x'],
    ['items[true]'],
    ['a.b.c.d.e'],
  ])('%s is null when it leads nowhere', (source) => {
    expect(evaluate(source, order)).toBeNull();
  });

  it('reads a field whose value is undefined (from a js transform) as null', () => {
    expect(evaluate('a', { a: undefined })).toBeNull();
    expect(evaluate('a[0]', { a: [undefined] })).toBeNull();
  });

  it.each([
    ['__proto__'],
    ['constructor'],
    ['constructor.name'],
    ['user.__proto__'],
    ['user.constructor.prototype'],
    ['this["__proto__"]'],
    ['toString'],
    ['user.hasOwnProperty'],
    ['user.tags.constructor'],
    ['this[concat("__pro", "to__")]'],
  ])('%s never reaches a prototype', (source) => {
    expect(evaluate(source, order)).toBeNull();
  });

  it('.length of a string or array is an error naming len(), never the JavaScript property', () => {
    expect(() => evaluate('user.name.length', order)).toThrow("'.length' is not a field of a string: write len(user.name) for its length");
    expect(() => evaluate('user.tags.length', order)).toThrow("'.length' is not a field of an array: write len(user.tags) for its length");
  });

  it('reads an own field named like a prototype member', () => {
    const value = JSON.parse('{"__proto__": {"x": 1}, "constructor": "c"}') as unknown;
    expect(evaluate('__proto__.x', value)).toBe(1);
    expect(evaluate('constructor', value)).toBe('c');
  });

  it('sees no globals: an unknown name is a missing field', () => {
    expect(evaluate('process', {})).toBeNull();
    expect(evaluate('globalThis', {})).toBeNull();
    expect(evaluate('Math', {})).toBeNull();
  });

  it('a compiled expression is reusable across values', () => {
    const f = compileExpression('user.name');
    expect(f({ user: { name: 'x' } })).toBe('x');
    expect(f({ user: null })).toBeNull();
    expect(f(null)).toBeNull();
  });
});

describe('exists', () => {
  const value = { a: { b: null, list: [1] }, n: 0 };
  it.each([
    ['exists(a)', true],
    ['exists(a.b)', true],
    ['exists(a.c)', false],
    ['exists(a.b.c)', false],
    ['exists(n)', true],
    ['exists(a.list[0])', true],
    ['exists(a.list[-1])', true],
    ['exists(a.list[1])', false],
    ['exists(a["b"])', true],
    ['exists(a[concat("li", "st")])', true],
    ['exists(this)', true],
    ['exists(constructor)', false],
    ['exists(a.list.length)', false],
  ])('%s is %s', (source, expected) => {
    expect(evaluate(source, value)).toBe(expected);
  });

  it('tells a missing field from a null one, which both read as null', () => {
    expect(evaluate('a.b', value)).toBeNull();
    expect(evaluate('a.c', value)).toBeNull();
    expect(evaluate('exists(a.b) and not exists(a.c)', value)).toBe(true);
  });
});
