import { describe, expect, it } from 'vitest';
import {
  estimateRemainingMs,
  formatClock,
  formatCount,
  formatRate,
  formatSeconds,
  ratePerSecond,
  renderBar,
} from '../../src/cli/format.js';

describe('cli text formatting', () => {
  it('groups thousands in counts', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatCount(1234567)).toBe('1,234,567');
    expect(formatCount(999)).toBe('999');
    expect(formatCount(1000)).toBe('1,000');
    expect(formatCount(-1234.6)).toBe('-1,235');
  });

  it('shortens rates to k and M', () => {
    expect(formatRate(950)).toBe('950/s');
    expect(formatRate(12_345)).toBe('12.3k/s');
    expect(formatRate(1_250_000)).toBe('1.25M/s');
    expect(formatRate(Number.NaN)).toBe('0/s');
  });

  it('shows clocks as m:ss or h:mm:ss', () => {
    expect(formatClock(7_900)).toBe('0:07');
    expect(formatClock(754_000)).toBe('12:34');
    expect(formatClock(3_723_000)).toBe('1:02:03');
    expect(formatClock(-5)).toBe('0:00');
  });

  it('prints seconds with milliseconds', () => {
    expect(formatSeconds(412)).toBe('0.412 s');
  });

  it('fills bars in proportion and clamps out-of-range fractions', () => {
    expect(renderBar(0.5, 10)).toBe('[#####.....]');
    expect(renderBar(0, 4)).toBe('[....]');
    expect(renderBar(2, 4)).toBe('[####]');
    expect(renderBar(Number.NaN, 4)).toBe('[....]');
  });

  it('estimates the time left at the pace so far', () => {
    expect(estimateRemainingMs(10_000, 0.25)).toBe(30_000);
    expect(estimateRemainingMs(10_000, 1)).toBe(0);
    expect(estimateRemainingMs(10_000, 0)).toBeUndefined();
    expect(estimateRemainingMs(0, 0.5)).toBeUndefined();
  });

  it('computes rates per second and none for an empty span', () => {
    expect(ratePerSecond(500, 250)).toBe(2000);
    expect(ratePerSecond(500, 0)).toBe(0);
  });
});
