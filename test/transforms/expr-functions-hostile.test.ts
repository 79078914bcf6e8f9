import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isWireError } from '../../src/core/errors.js';
import { compileExpression } from '../../src/transforms/expr/index.js';

/** The outcome of `fn`: its value, or the code of the WireError it threw; anything else thrown fails the property. */
function outcome(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (err) {
    if (isWireError(err)) return err.code;
    throw err;
  }
}

describe('hostile input to the functions (properties)', () => {
  it('any text as a pattern compiles or is a WireError naming it, never a raw SyntaxError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30, unit: fc.constantFrom(...'()[]{}*+?|\\^$.,0123456789aw:<>=!-'.split('')) }), (pattern) => {
        const result = outcome(() => compileExpression(`matches(this, ${JSON.stringify(pattern)})`));
        return typeof result === 'function' || result === 'INVALID_INPUT';
      }),
      { seed: 41, numRuns: 2000 },
    );
  });

  it('any text or number given to parse_time gives a time or a WireError for its record', () => {
    const parse = compileExpression('parse_time(this)');
    const byPattern = compileExpression('parse_time(this, "%d/%b/%Y:%H:%M:%S %z")');
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.double(), fc.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,4})?(Z|[+-]\d{2}:\d{2})$/)), (value) => {
        for (const f of [parse, byPattern]) {
          const result = outcome(() => f(value));
          if (result !== 'INVALID_INPUT' && !(typeof result === 'number' && Number.isInteger(result))) return false;
        }
        return true;
      }),
      { seed: 42, numRuns: 2000 },
    );
  });

  it('every millisecond of the four-digit years formats as JavaScript does and parses back, in any fixed zone', () => {
    const format = compileExpression('format_time(this)');
    const parse = compileExpression('parse_time(this)');
    const zoned = compileExpression('parse_time(format_time(this, "%F %T.%L %z", "-09:30"), "%F %T.%L %z")');
    fc.assert(
      // Ten hours inside the range, so the time in the zone -09:30 is within it too.
      fc.property(fc.integer({ min: -62167219200000 + 36_000_000, max: 253402300799999 - 36_000_000 }), (ms) => {
        const text = format(ms);
        return text === new Date(ms).toISOString() && parse(text) === ms && zoned(ms) === ms;
      }),
      { seed: 43, numRuns: 3000 },
    );
  });

  it('substring and the regex functions take any text without throwing anything but a WireError', () => {
    const fns = ['substring(this, 2, -2)', 'regex_replace(this, "\\\\s+", " ")', 'regex_extract(this, "(\\\\d+)", 1)', 'sha256(this)', 'parse_json(this)'].map(compileExpression);
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: 'binary' }), (text) => {
        for (const f of fns) outcome(() => f(text));
        return true;
      }),
      { seed: 44, numRuns: 1000 },
    );
  });

  it('a pattern that passes the check stays fast on a text built to make backtracking explode', () => {
    // Each of these, on the text below, would backtrack exponentially; all are refused when compiled.
    for (const pattern of ['(a+)+$', '(a*)*$', '(?:a|b+)+$', '(\\w+\\s?)*$', '([a-z]+)*=']) {
      expect(outcome(() => compileExpression(`matches(this, ${JSON.stringify(pattern)})`))).toBe('INVALID_INPUT');
    }
    const safe = compileExpression('matches(this, "^a+$")');
    expect(safe('a'.repeat(16_000) + '!')).toBe(false);
  });
});
