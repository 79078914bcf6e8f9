import { describe, expect, it } from 'vitest';
import { formatProblem, parseDuration } from '../../src/config/index.js';
import { closest } from '../../src/core/suggest.js';

describe('parseDuration', () => {
  it.each([
    [0, 0],
    [250, 250],
    ['100ms', 100],
    ['2s', 2000],
    ['1.5s', 1500],
    ['1m', 60_000],
    ['1h', 3_600_000],
    [' 3s ', 3000],
  ])('%j is %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([['2x'], ['s'], ['-1s'], [-5], [Infinity], [true], [null], ['1 d']])('%j is not a duration', (input) => {
    expect(parseDuration(input)).toBeUndefined();
  });
});

describe('formatProblem', () => {
  it('writes file:line:column path: message', () => {
    expect(formatProblem({ file: 'pipeline.yaml', line: 9, column: 7, path: 'sink.config.path', message: 'required' })).toBe(
      'pipeline.yaml:9:7 sink.config.path: required',
    );
  });

  it('leaves the path out when the problem is the file itself', () => {
    expect(formatProblem({ file: 'p.yaml', line: 1, column: 1, path: '', message: 'the file is empty' })).toBe('p.yaml:1:1 the file is empty');
  });
});

describe('closest', () => {
  const names = ['filter', 'file', 'path', 'map', 'uppercase'];

  it.each([
    ['fliter', 'filter'],
    ['pth', 'path'],
    ['FILE', 'file'],
    ['mpa', 'map'],
    ['upercase', 'uppercase'],
  ])('suggests %s → %s', (word, expected) => {
    expect(closest(word, names)).toBe(expected);
  });

  it('suggests nothing when every name is far', () => {
    expect(closest('kafka', names)).toBeUndefined();
    expect(closest('uppr', names)).toBeUndefined();
  });
});
