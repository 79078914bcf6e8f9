import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { recordsOf } from '../../src/core/line-block.js';
import { MAX_DEPTH, jsonLineError, scanJson } from '../../src/core/json-scan.js';

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

const scans = (text: string): boolean => {
  const bytes = Buffer.from(text, 'utf8');
  return scanJson(bytes, 0, bytes.length) === 0;
};

/** Strings made of JSON's own characters, so most are near misses of valid JSON. */
const jsonish = fc.string({ unit: fc.constantFrom(...'{}[]",:0123456789-+.eEtruefalsn \\u\t/'.split('')), maxLength: 24 });

describe('the JSON scanner', () => {
  it('accepts exactly what JSON.parse accepts, for valid UTF-8 nested at most MAX_DEPTH deep (property)', () => {
    for (const text of ['1', '-0', '1e+5', '"\\u00e9"', '{"a" : [ true , false,null ] }', ' 1 ', '"é😀\u2028"', '[]', '{}', '"\\ud800"', '1\r']) {
      expect(scans(text)).toBe(true);
    }
    for (const text of ['', '-', '01', '1.', '1.5e', '"\\x"', '[1,]', '{"a":1,}', '{"a"}', 'nul', 'truex', '[1 2]', '"\t"', '\u00a0', '1 2']) {
      expect(scans(text)).toBe(false);
    }
    fc.assert(fc.property(fc.json(), (text) => scans(text) === parses(text)), { seed: 1, numRuns: 2_000 });
    fc.assert(fc.property(jsonish, (text) => scans(text) === parses(text)), { seed: 2, numRuns: 20_000 });
    fc.assert(
      fc.property(fc.json(), fc.nat(), fc.constantFrom(...'{}[]",:0-.e \\'.split('')), (text, at, c) => {
        const i = at % (text.length + 1);
        const edited = text.slice(0, i) + c + text.slice(i + 1);
        return scans(edited) === parses(edited);
      }),
      { seed: 3, numRuns: 10_000 },
    );
  });

  it('refuses bytes that are not UTF-8, and nesting past MAX_DEPTH, with errors of their own', () => {
    const line = (bytes: number[]) => jsonLineError(Buffer.from(bytes), 0, bytes.length)?.message;
    for (const bad of [[0xed, 0xa0, 0x80], [0xc0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0xff]]) {
      expect(line([0x22, 0x61, ...bad, 0x22])).toBe('invalid UTF-8 at byte 2 of the line');
    }
    expect(line([0x22, 0xf0, 0x9f, 0x98, 0x80, 0x22])).toBeUndefined();
    expect(line([0x7b, 0xff])).toBe('invalid UTF-8 at byte 1 of the line'); // outside a string too
    const nested = (n: number) => Buffer.from('['.repeat(n) + ']'.repeat(n));
    expect(scanJson(nested(MAX_DEPTH), 0, 2 * MAX_DEPTH)).toBe(0);
    expect(jsonLineError(nested(MAX_DEPTH + 1), 0, 2 * MAX_DEPTH + 2)?.message).toBe(`malformed JSON: nested deeper than ${MAX_DEPTH} levels`);
    expect(jsonLineError(Buffer.from('{oops'), 0, 5)?.message).toMatch(/^malformed JSON: /);
  });

  it('gives a block the same records and errors whether its lines are scanned or parsed (property)', () => {
    const line = fc.oneof(
      fc.json().map((t) => Buffer.from(t)),
      jsonish.map((t) => Buffer.from(t)),
      fc.constantFrom(Buffer.from('caf\xe9', 'latin1'), Buffer.from('{"a":"\xff"}', 'latin1'), Buffer.from('['.repeat(1200) + ']'.repeat(1200))),
      fc.constantFrom(Buffer.from('['.repeat(1001) + '1,'), Buffer.from(' '), Buffer.from('')),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), (lines) => {
        const data = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
        const block = { data, position: 0, format: 'jsonl' as const };
        const describe = (parse: boolean) => recordsOf(block, parse).map((r) => r.unreadable?.message ?? r.text());
        expect(describe(true)).toEqual(describe(false));
      }),
      { seed: 4, numRuns: 500 },
    );
  });
});
