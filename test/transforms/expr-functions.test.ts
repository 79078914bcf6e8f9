import { describe, expect, it, vi } from 'vitest';
import { uuidv7Time } from '../../src/core/uuid.js';
import { compileExpression, FUNCTION_NAMES } from '../../src/transforms/expr/index.js';
import { caught, evaluate } from './helpers.js';

const v = { s: '  Hello World  ', w: 'a-b-c', n: -2.5, i: 3, list: ['x', 1, true, null, { k: 1 }], obj: { a: 1, b: 2 }, nul: null, num: '42' };

describe('functions', () => {
  it.each([
    ['upper("abc")', 'ABC'],
    ['upper(w)', 'A-B-C'],
    ['lower("ÀBC")', 'àbc'],
    ['trim(s)', 'Hello World'],
    ['len("héllo")', 5],
    ['len(list)', 5],
    ['len(obj)', 2],
    ['len("")', 0],
    ['concat("a", "b", "c")', 'abc'],
    ['concat(w, 1, true, nul, "!")', 'a-b-c1true!'],
    ['concat(obj)', '{"a":1,"b":2}'],
    ['concat([1], [2, 3], nul)', [1, 2, 3]],
    ['concat(nul)', ''],
    ['contains(w, "b-")', true],
    ['contains(w, "z")', false],
    ['contains(w, nul)', false],
    ['contains(list, 1)', true],
    ['contains(list, null)', true],
    ['contains(list, "1")', false],
    ['contains(list, obj)', false],
    ['contains(list, list[4])', true],
    ['starts_with(w, "a-")', true],
    ['starts_with(w, "b")', false],
    ['ends_with(w, "-c")', true],
    ['ends_with(w, "a")', false],
    ['split(w, "-")', ['a', 'b', 'c']],
    ['split("a😀b", "")', ['a', '😀', 'b']],
    ['split("", ",")', ['']],
    ['join(["a", 1, true, null], "+")', 'a+1+true+'],
    ['join(split(w, "-"), "")', 'abc'],
    ['join([], ",")', ''],
    ['join([obj], ";")', '{"a":1,"b":2}'],
    ['replace(w, "-", "+")', 'a+b+c'],
    ['replace(w, "z", "+")', 'a-b-c'],
    ['replace("aaa", "a", "aa")', 'aaaaaa'],
    ['round(2.5)', 3],
    ['round(-2.5)', -3],
    ['round(n)', -3],
    ['round(1.005, 2)', 1.01],
    ['round(1234.5678, -2)', 1200],
    ['round(0.1 + 0.2, 10)', 0.3],
    ['round(2.4)', 2],
    ['floor(n)', -3],
    ['floor(2.9)', 2],
    ['ceil(n)', -2],
    ['ceil(2.1)', 3],
    ['abs(n)', 2.5],
    ['abs(3)', 3],
    ['to_number(num)', 42],
    ['to_number(" 1.5 ")', 1.5],
    ['to_number("-1e3")', -1000],
    ['to_number(i)', 3],
    ['to_number(true)', 1],
    ['to_number(false)', 0],
    ['to_string(i)', '3'],
    ['to_string(n)', '-2.5'],
    ['to_string(true)', 'true'],
    ['to_string(s)', '  Hello World  '],
    ['to_string(obj)', '{"a":1,"b":2}'],
    ['to_string(list)', '["x",1,true,null,{"k":1}]'],
  ])('%s = %j', (source, expected) => {
    expect(evaluate(source, v)).toEqual(expected);
  });

  it.each([
    'upper', 'lower', 'trim', 'len', 'floor', 'ceil', 'abs', 'round', 'to_number', 'to_string',
  ])('%s(null) is null', (name) => {
    expect(evaluate(`${name}(missing)`, v)).toBeNull();
  });

  it.each([
    ['contains(missing, "a")'],
    ['starts_with(missing, "a")'],
    ['ends_with(missing, "a")'],
    ['split(missing, ",")'],
    ['join(missing, ",")'],
    ['replace(missing, "a", "b")'],
  ])('%s is null: a null subject gives null', (source) => {
    expect(evaluate(source, v)).toBeNull();
  });

  it.each([
    ['upper(i)', 'upper() expects a string, got number at column 1'],
    ['lower(list)', 'lower() expects a string, got array at column 1'],
    ['trim(obj)', 'trim() expects a string, got object at column 1'],
    ['len(i)', 'len() expects a string, array or object, got number at column 1'],
    ['len(true)', 'len() expects a string, array or object, got boolean at column 1'],
    ['concat(list, "a")', 'concat() cannot mix arrays with other values at column 1'],
    ['contains(i, 1)', 'contains() expects a string or an array, got number at column 1'],
    ['contains(w, 1)', 'contains() expects a string to look for, got number at column 1'],
    ['starts_with(i, "a")', 'starts_with() expects a string, got number at column 1'],
    ['starts_with(w, i)', 'starts_with() expects a string prefix, got number at column 1'],
    ['ends_with(w, nul)', 'ends_with() expects a string suffix, got null at column 1'],
    ['split(w, i)', 'split() expects a string separator, got number at column 1'],
    ['join(w, ",")', 'join() expects an array, got string at column 1'],
    ['join(list, 1)', 'join() expects a string separator, got number at column 1'],
    ['replace(w, "", "x")', 'replace() expects a non-empty string to search for at column 1'],
    ['replace(w, "a", i)', 'replace() expects a string replacement, got number at column 1'],
    ['round(w)', 'round() expects a number, got string at column 1'],
    ['round(n, 1.5)', 'round() expects its digits to be an integer from -15 to 15, got 1.5 at column 1'],
    ['round(n, 16)', 'round() expects its digits to be an integer from -15 to 15, got 16 at column 1'],
    ['floor(w)', 'floor() expects a number, got string at column 1'],
    ['ceil(true)', 'ceil() expects a number, got boolean at column 1'],
    ['abs(list)', 'abs() expects a number, got array at column 1'],
    ['to_number(w)', 'to_number() cannot convert "a-b-c" to a number at column 1'],
    ['to_number("")', 'to_number() cannot convert "" to a number at column 1'],
    ['to_number(list)', 'to_number() cannot convert array to a number at column 1'],
    ['i + upper(i)', 'upper() expects a string, got number at column 5'],
  ])('%s fails: %s', (source, message) => {
    const err = caught(() => evaluate(source, v));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toBe(message);
  });

  it('now() is the current time in milliseconds', () => {
    const before = Date.now();
    const t = evaluate('now()') as number;
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
  });

  it('now() is read at each evaluation, not once at compile time', () => {
    vi.useFakeTimers();
    try {
      const f = compileExpression('now() + 1');
      vi.setSystemTime(1_000);
      expect(f({})).toBe(1_001);
      vi.setSystemTime(5_000);
      expect(f({})).toBe(5_001);
    } finally {
      vi.useRealTimers();
    }
  });

  it('uuid() gives a new UUIDv7 at each evaluation', () => {
    const a = evaluate('uuid()') as string;
    const b = evaluate('uuid()') as string;
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(b);
    expect(Math.abs(uuidv7Time(a) - Date.now())).toBeLessThan(60_000);
  });

  it('lists every function the issue names', () => {
    expect([...FUNCTION_NAMES].sort()).toEqual(
      ['upper', 'lower', 'trim', 'len', 'concat', 'contains', 'starts_with', 'ends_with', 'split', 'join', 'replace',
        'round', 'floor', 'ceil', 'abs', 'now', 'uuid', 'to_number', 'to_string', 'exists',
        'substring', 'coalesce', 'matches', 'regex_extract', 'regex_parse', 'regex_replace', 'parse_time', 'format_time',
        'sha256', 'md5', 'parse_json'].sort(),
    );
  });
});
