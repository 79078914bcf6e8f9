import { describe, expect, it } from 'vitest';
import { ratios } from '../../bench/lib/ratios.js';

describe('the connector rows of the bench: ratios', () => {
  it('takes the best round of each side for `best`, the median of the rounds’ own ratios for `paired`', () => {
    // Round 2 ran on a slow spell of the machine: both sides took twice as long.
    const { best, paired } = ratios({ bareSeconds: [1.0, 2.0, 0.9], wireSeconds: [1.25, 2.2, 1.0] });
    expect(best).toBeCloseTo(0.9 / 1.0);
    expect(paired).toBeCloseTo(0.9); // of 0.8, 0.909, 0.9
  });

  it('averages the two middle ratios of an even number of rounds', () => {
    expect(ratios({ bareSeconds: [1, 1, 1, 1], wireSeconds: [1, 2, 4, 0.5] }).paired).toBeCloseTo((0.5 + 1) / 2);
  });

  it('refuses rounds that do not pair', () => {
    expect(() => ratios({ bareSeconds: [1, 2], wireSeconds: [1] })).toThrow(/as many bare rounds/);
    expect(() => ratios({ bareSeconds: [], wireSeconds: [] })).toThrow(/at least one/);
  });
});
