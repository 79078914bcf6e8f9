import { describe, expect, it } from 'vitest';
import { diffLists, fitsDeadLetter, inExpectedOrder, sameValue } from '../../src/testing/compare.js';

const show = (v: unknown): string => JSON.stringify(v);

describe('diffLists', () => {
  it('finds no difference between equal lists, whatever the order of object keys', () => {
    expect(diffLists([{ a: 1, b: [2] }], [{ b: [2], a: 1 }], sameValue, show)).toBeUndefined();
  });

  it('shows one missing record as one line, the records after it as common', () => {
    expect(diffLists([1, 2, 3, 4], [1, 3, 4], sameValue, show)).toEqual(['  1', '- 2', '  3', '  4']);
  });

  it('shows a changed record as the expected one, then the actual one', () => {
    expect(diffLists([1, 2, 3], [1, 5, 3], sameValue, show)).toEqual(['  1', '- 2', '+ 5', '  3']);
  });

  it('shows records that came unexpected', () => {
    expect(diffLists([], [7, 8], sameValue, show)).toEqual(['+ 7', '+ 8']);
  });

  it('pairs records by index past its alignment limit', () => {
    const many = Array.from({ length: 2001 }, (_, i) => i);
    const diff = diffLists(many, [...many.slice(0, 2000), -1, 5], sameValue, show)!;
    expect(diff.filter((l) => !l.startsWith('  '))).toEqual(['- 2000', '+ -1', '+ 5']);
  });
});

describe('fitsDeadLetter', () => {
  const letter = { error: 'malformed JSON: Unexpected end', stage: 'source', attempts: 1, code: 'INVALID_INPUT' };

  it('compares only the fields the test names; error by a part of its message', () => {
    expect(fitsDeadLetter({ stage: 'source', error: 'malformed' }, letter)).toBe(true);
    expect(fitsDeadLetter({ stage: 'sink' }, letter)).toBe(false);
    expect(fitsDeadLetter({ error: 'timeout' }, letter)).toBe(false);
    expect(fitsDeadLetter({ record: 'x' }, letter)).toBe(false);
  });
});

describe('inExpectedOrder', () => {
  it('puts matching records in the expected order and the rest after them', () => {
    expect(inExpectedOrder([3, 1, 2], [1, 9, 2, 3], sameValue)).toEqual([3, 1, 2, 9]);
  });
});
