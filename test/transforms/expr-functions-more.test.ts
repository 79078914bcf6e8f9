import { describe, expect, it } from 'vitest';
import { compileExpression } from '../../src/transforms/expr/index.js';
import { MAX_SUBJECT } from '../../src/transforms/expr/regex.js';
import { caught, compileFailure, evaluate } from './helpers.js';

const v = {
  s: 'hello world 42',
  line: '10.0.0.1 GET /index.html 200',
  tags: ['a', 'b', 'c'],
  box: { length: 3 },
  t: 1714564800123,
  ts: '2024-05-01T12:00:00.5+02:00',
  n: 7,
  nul: null,
  json: '{"user": {"id": 1}, "tags": ["x"]}',
};

describe('substring', () => {
  it.each([
    ['substring(s, 0, 5)', 'hello'],
    ['substring(s, 6)', 'world 42'],
    ['substring(s, -2)', '42'],
    ['substring(s, 0, -3)', 'hello world'],
    ['substring(s, 100)', ''],
    ['substring(s, 5, 2)', ''],
    ['substring(nul, 0, 1)', null],
    ['substring(s, 0, null)', 'hello world 42'],
  ])('%s = %j', (source, expected) => {
    expect(evaluate(source, v)).toEqual(expected);
  });

  it.each([
    ['substring(n, 0)', 'substring() expects a string, got number at column 1'],
    ['substring(s, 1.5)', 'substring() expects its start to be an integer, got 1.5 at column 1'],
    ['substring(s, "1")', 'substring() expects its start to be an integer, got string at column 1'],
    ['substring(s, 0, 1e300)', 'substring() expects its end to be an integer, got 1e+300 at column 1'],
  ])('%s fails: %s', (source, message) => {
    expect(caught(() => evaluate(source, v)).message).toBe(message);
  });
});

describe('coalesce', () => {
  it.each([
    ['coalesce(missing, nul, n)', 7],
    ['coalesce(missing)', null],
    ['coalesce(s, n)', 'hello world 42'],
    ['coalesce(missing, false)', false],
    ['coalesce(nul, 0, 1)', 0],
  ])('%s = %j', (source, expected) => {
    expect(evaluate(source, v)).toEqual(expected);
  });

  it('evaluates no argument after the first that is not null', () => {
    expect(evaluate('coalesce(n, upper(n))', v)).toBe(7);
  });

  it('needs an argument', () => {
    expect(compileFailure('coalesce()').message).toBe('coalesce() takes at least 1 argument, got 0 at column 1');
  });
});

describe('regular expressions', () => {
  it.each([
    ['matches(s, "\\\\d+")', true],
    ['matches(s, "^\\\\d")', false],
    ['matches(s, "(?i)HELLO")', true],
    ['matches(s, "HELLO")', false],
    ['matches(nul, "x")', null],
    ['regex_extract(s, "\\\\d+")', '42'],
    ['regex_extract(s, "(\\\\w+) (\\\\w+)", 2)', 'world'],
    ['regex_extract(s, "(?<word>w\\\\w+)", "word")', 'world'],
    ['regex_extract(s, "(x)?world", 1)', null],
    ['regex_extract(s, "nope")', null],
    ['regex_replace(s, "o", "0")', 'hell0 w0rld 42'],
    ['regex_replace(s, "(\\\\w+) (\\\\w+)", "$2 $1")', 'world hello 42'],
    ['regex_replace(s, "(?<n>\\\\d+)", "[$<n>]")', 'hello world [42]'],
    ['regex_replace(s, "\\\\s+", "")', 'helloworld42'],
    ['regex_parse(line, "^(?<ip>\\\\S+) (?<method>[A-Z]+) (?<path>\\\\S+) (?<status>\\\\d+)( (?<bytes>\\\\d+))?$")', { ip: '10.0.0.1', method: 'GET', path: '/index.html', status: '200', bytes: null }],
    ['regex_parse(s, "^(?<digits>\\\\d+)$")', null],
    ['matches("😀", "^.$")', true],
  ])('%s = %j', (source, expected) => {
    expect(evaluate(source, v)).toEqual(expected);
  });

  it.each([
    ['matches(s, "(")', /^matches\(\): the pattern is not a valid regular expression \(.*Unterminated group\) at column 12$/],
    ['matches(s, s)', /^matches\(\) needs its argument 2 to be a literal: it is compiled once, when the pipeline loads at column 12$/],
    ['matches(s, "(a+)+$")', /^matches\(\): the pattern repeats a group that itself repeats without bound \('\(a\+\)\+'\), which can take exponential time/],
    ['matches(s, "(?:\\\\w+\\\\s?)*x")', /repeats a group that itself repeats without bound \('\(\?:\\w\+\\s\?\)\*'\)/],
    ['matches(s, "((a|b)*c)+")', /repeats a group that itself repeats without bound/],
    ['matches(s, "a{5000}")', /^matches\(\): the pattern repeats 5000 times: at most 1000 at column 12$/],
    ['matches(s, 1)', /^matches\(\): the pattern must be a string, got number at column 12$/],
    ['regex_extract(s, "a", 2)', /^regex_extract\(\): the group must be 0 \(the whole match: the pattern has no groups\), got 2 at column 23$/],
    ['regex_extract(s, "(?<a>x)", "b")', /^regex_extract\(\): the group must be a number or a group's name \(the pattern's named groups are a\), got 'b' at column 29$/],
    ['regex_extract(s, "a", n)', /^regex_extract\(\) needs its argument 3 to be a literal/],
    ['regex_parse(s, "a(b)")', /^regex_parse\(\): the pattern has no named groups/],
  ])('%s is refused when the expression compiles: %s', (source, message) => {
    const err = compileFailure(source);
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toMatch(message);
  });

  it.each(['(a+)?', '(?:ab)+', '[a-z]+(\\.[a-z]+)?', '(\\d{1,3}\\.){3}\\d{1,3}', 'a{1000}', '\\(+', '[(]+', '\\p{L}+'])(
    'accepts the safe pattern %s',
    (pattern) => {
      expect(() => compileExpression(`matches(s, ${JSON.stringify(pattern)})`)).not.toThrow();
    },
  );

  it('refuses, for its record, a text longer than the bound instead of running the pattern on it', () => {
    const f = compileExpression('matches(this, "a")');
    expect(f('a'.repeat(MAX_SUBJECT))).toBe(true);
    expect(caught(() => f('a'.repeat(MAX_SUBJECT + 1))).message).toBe(
      `matches() expects a text of at most ${MAX_SUBJECT} characters, got ${MAX_SUBJECT + 1} (cut it with substring() first) at column 1`,
    );
  });

  it('a regex function given a non-string subject fails for its record', () => {
    expect(caught(() => evaluate('regex_replace(n, "a", "b")', v)).message).toBe('regex_replace() expects a string, got number at column 1');
    expect(caught(() => evaluate('regex_replace(s, "a", n)', v)).message).toBe('regex_replace() expects a string replacement, got number at column 1');
  });

  it('a compiled pattern keeps no state between records (a global regex would)', () => {
    const f = compileExpression('regex_replace(this, "a", "b")');
    expect([f('aa'), f('aa'), f('a')]).toEqual(['bb', 'bb', 'b']);
    const g = compileExpression('matches(this, "a")');
    expect([g('a'), g('a'), g('a')]).toEqual([true, true, true]);
  });
});

describe('times', () => {
  it.each([
    ['parse_time("2024-05-01T12:00:00Z")', Date.UTC(2024, 4, 1, 12)],
    ['parse_time(ts)', Date.UTC(2024, 4, 1, 10, 0, 0, 500)],
    ['parse_time("2024-05-01t12:00:00.123456789-01:30")', Date.UTC(2024, 4, 1, 13, 30, 0, 123)],
    ['parse_time("2024-05-01 12:00:00+00:00")', Date.UTC(2024, 4, 1, 12)],
    ['parse_time(t)', 1714564800123],
    ['parse_time(nul)', null],
    ['parse_time("0001-01-01T00:00:00Z")', -62135596800000],
    ['parse_time("2024-02-29T00:00:00Z")', Date.UTC(2024, 1, 29)],
    ['parse_time("01/May/2024:12:00:00 -0700", "%d/%b/%Y:%H:%M:%S %z")', Date.UTC(2024, 4, 1, 19)],
    ['parse_time("2024-05-01 12:00:00.250", "%F %T.%L")', Date.UTC(2024, 4, 1, 12, 0, 0, 250)],
    ['parse_time("1714564800", "%s")', 1714564800000],
    ['parse_time("20240501", "%Y%m%d")', Date.UTC(2024, 4, 1)],
    ['parse_time("12:30", "%H:%M")', Date.UTC(1970, 0, 1, 12, 30)],
    ['parse_time("100% 2024", "100%% %Y")', Date.UTC(2024, 0, 1)],
    ['format_time(t)', '2024-05-01T12:00:00.123Z'],
    ['format_time(ts)', '2024-05-01T10:00:00.500Z'],
    ['format_time(0)', '1970-01-01T00:00:00.000Z'],
    ['format_time(-1)', '1969-12-31T23:59:59.999Z'],
    ['format_time(t, "%Y-%m-%d")', '2024-05-01'],
    ['format_time(t, "%d/%b/%Y:%H:%M:%S %z")', '01/May/2024:12:00:00 +0000'],
    ['format_time(t, "%F %T.%L", "+05:30")', '2024-05-01 17:30:00.123'],
    ['format_time(t, "%H:%M %z", "-0330")', '08:30 -0330'],
    ['format_time(t, "%F %T %z", "Europe/Paris")', '2024-05-01 14:00:00 +0200'],
    ['format_time(1704067200000, "%F %T %z", "Europe/Paris")', '2024-01-01 01:00:00 +0100'],
    ['format_time(t, null, "America/New_York")', '2024-05-01T08:00:00.123-04:00'],
    ['format_time(t, "%s")', '1714564800'],
    ['format_time(nul)', null],
    ['format_time(parse_time("31/Dec/1999", "%d/%b/%Y"), "%F")', '1999-12-31'],
  ])('%s = %j', (source, expected) => {
    expect(evaluate(source, v)).toEqual(expected);
  });

  it('formats and parses back every time of the four-digit years (round trip)', () => {
    const parse = compileExpression('parse_time(this)');
    const format = compileExpression('format_time(this)');
    const custom = compileExpression('parse_time(format_time(this, "%Y%m%d%H%M%S%L"), "%Y%m%d%H%M%S%L")');
    for (const ms of [-62167219200000, -1, 0, 951782400000, 1709164800000, 253402300799999, 4102444799999]) {
      expect(parse(format(ms))).toBe(ms);
      expect(format(ms)).toBe(new Date(ms).toISOString());
      expect(custom(ms)).toBe(ms);
    }
  });

  it.each([
    ['parse_time("2024-02-30T00:00:00Z")', 'parse_time() cannot read "2024-02-30T00:00:00Z" as a time: day 30 is not 1 to 29 at column 1'],
    ['parse_time("2023-13-01T00:00:00Z")', 'parse_time() cannot read "2023-13-01T00:00:00Z" as a time: month 13 is not 1 to 12 at column 1'],
    ['parse_time("2024-05-01T24:00:00Z")', 'parse_time() cannot read "2024-05-01T24:00:00Z" as a time: hour 24 is not 0 to 23 at column 1'],
    ['parse_time("2024-05-01T12:00:60Z")', 'parse_time() cannot read "2024-05-01T12:00:60Z" as a time: second 60 is not 0 to 59 at column 1'],
    ['parse_time("2024-05-01")', 'parse_time() cannot read "2024-05-01" as an RFC 3339 time such as 2024-05-01T12:00:00Z (give a pattern for other forms) at column 1'],
    ['parse_time("yesterday")', 'parse_time() cannot read "yesterday" as an RFC 3339 time such as 2024-05-01T12:00:00Z (give a pattern for other forms) at column 1'],
    ['parse_time("2024-05-01T12:00:00+25:00")', 'parse_time() cannot read "2024-05-01T12:00:00+25:00" as a time: the zone offset is not within ±23:59 at column 1'],
    ['parse_time("01/Foo/2024", "%d/%b/%Y")', 'parse_time() cannot read "01/Foo/2024" by its pattern: expected a month name (Jan to Dec) for %b at character 4 at column 1'],
    ['parse_time("2024-5-1", "%Y-%m-%d")', 'parse_time() cannot read "2024-5-1" by its pattern: expected 2 digits for %m at character 6 at column 1'],
    ['parse_time("2024-05-01 extra", "%Y-%m-%d")', 'parse_time() cannot read "2024-05-01 extra" by its pattern: unexpected text after the pattern at character 11 at column 1'],
    ['parse_time(tags)', 'parse_time() expects a string or a number, got array at column 1'],
    ['format_time(1e300)', 'format_time() expects a time within the years 0000 to 9999, got 1e+300 milliseconds since the epoch at column 1'],
    ['format_time(s)', 'format_time() cannot read "hello world 42" as an RFC 3339 time such as 2024-05-01T12:00:00Z (give a pattern for other forms) at column 1'],
    ['format_time(box)', 'format_time() expects a time (milliseconds since the epoch or RFC 3339 text), got object at column 1'],
  ])('%s fails for its record: %s', (source, message) => {
    const err = caught(() => evaluate(source, v));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toBe(message);
  });

  it('a time that falls outside the four-digit years in its zone is an error, not a malformed year', () => {
    expect(caught(() => evaluate('format_time(-62167219200000, "%Y", "-01:00")')).message).toBe(
      'format_time() expects a time within the years 0000 to 9999, got one in the year -1 in its zone at column 1',
    );
    expect(caught(() => evaluate('format_time(253402300799999, null, "+01:00")')).message).toBe(
      'format_time() expects a time within the years 0000 to 9999, got one in the year 10000 in its zone at column 1',
    );
  });

  it('cuts a long invalid time short in its message', () => {
    const err = caught(() => compileExpression('parse_time(this)')('9'.repeat(10_000)));
    expect(err.message.length).toBeLessThan(200);
  });

  it.each([
    ['format_time(t, "%Q")', "format_time(): the pattern: '%Q' is not a directive Wire knows (it knows %Y %m %d %H %M %S %L %z %b %s %F %T %%) at column 16"],
    ['format_time(t, "")', 'format_time(): the pattern must be a non-empty string, got an empty one at column 16'],
    ['format_time(t, "%Y", "Mars/Olympus")', 'format_time(): the zone "Mars/Olympus" is not UTC, an offset such as +02:00 or a known time zone name at column 22'],
    ['format_time(t, "%Y", "+24:00")', 'format_time(): the zone offset +24:00 is not within ±23:59 at column 22'],
    ['format_time(t, s)', 'format_time() needs its argument 2 to be a literal: it is compiled once, when the pipeline loads at column 16'],
    ['parse_time(ts, "%Y%")', "parse_time(): the pattern: '%' is not a directive Wire knows (it knows %Y %m %d %H %M %S %L %z %b %s %F %T %%) at column 16"],
  ])('%s is refused when the expression compiles', (source, message) => {
    expect(compileFailure(source).message).toBe(message);
  });
});

describe('hashes and JSON', () => {
  it.each([
    ['sha256("abc")', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['sha256("")', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['md5("abc")', '900150983cd24fb0d6963f7d28e17f72'],
    // The UTF-8 bytes C3 A9, as Python's hashlib.sha256('é'.encode()) gives them.
    ['sha256("é")', '4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c'],
    ['md5(n)', '8f14e45fceea167a5a36dedd4bea2543'],
    ['md5(true)', 'b326b5062b2f0e69046810717534cb09'],
    ['sha256(nul)', null],
    ['parse_json(json)', { user: { id: 1 }, tags: ['x'] }],
    ['parse_json(json).user.id', 1],
    ['parse_json("42")', 42],
    ['parse_json("null")', null],
    ['parse_json(nul)', null],
  ])('%s = %j', (source, expected) => {
    expect(evaluate(source, v)).toEqual(expected);
  });

  it.each([
    ['sha256(tags)', 'sha256() expects a string, a number or a boolean, got array (hash to_string(x) for its JSON) at column 1'],
    ['parse_json(n)', 'parse_json() expects a string of JSON text, got number at column 1'],
  ])('%s fails: %s', (source, message) => {
    expect(caught(() => evaluate(source, v)).message).toBe(message);
  });

  it('an invalid JSON text fails for its record with the parser\'s reason', () => {
    expect(caught(() => evaluate('parse_json("{\\"a\\": ")')).message).toMatch(/^parse_json\(\) cannot parse its text as JSON \(.+\) at column 1$/);
  });

  it('a JSON text nested deeper than a record may be is refused, not left to overflow the stack later', () => {
    const deep = '['.repeat(1001) + ']'.repeat(1001);
    const f = compileExpression('parse_json(this)');
    expect(caught(() => f(deep)).message).toBe('parse_json() cannot parse its text as JSON: nested deeper than 1000 levels at column 1');
    expect(f('['.repeat(1000) + ']'.repeat(1000))).toBeInstanceOf(Array);
  });

  it('a constant object it gives is a new copy for every record', () => {
    const f = compileExpression('parse_json("{\\"a\\": 1}")');
    const first = f(null) as { a: number };
    first.a = 2;
    expect(f(null)).toEqual({ a: 1 });
  });
});

describe('.length', () => {
  it('of an object is its field', () => {
    expect(evaluate('box.length', v)).toBe(3);
    expect(evaluate('missing.length', v)).toBeNull();
  });

  it.each([
    ['tags.length', "'.length' is not a field of an array: write len(tags) for its length at column 5"],
    ['s.length > 2', "'.length' is not a field of a string: write len(s) for its length at column 2"],
    ['split(s, " ").length', `'.length' is not a field of an array: write len(split(s, " ")) for its length at column 14`],
    ['tags["length"]', "'.length' is not a field of an array: write len(tags) for its length at column 5"],
    ['this.tags.length', "'.length' is not a field of an array: write len(this.tags) for its length at column 10"],
  ])('of an array or a string fails for its record, naming len(): %s', (source, message) => {
    const err = caught(() => evaluate(source, v));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toBe(message);
  });
});
