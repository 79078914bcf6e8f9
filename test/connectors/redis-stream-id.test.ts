// Stream ids are ordered as Redis orders them (time, then sequence, as numbers) without parsing them to numbers:
// the comparison runs for every entry read and acknowledged.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareStreamIds } from '../../src/connectors/redis/stream-id.js';

const decimal = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n }), fc.constantFrom(0n, 1n, 9n, 10n, 99n, 100n));
/** A decimal, at times with leading zeros (a checkpoint file may hold one; Redis never writes one). */
const digits = fc.tuple(decimal, fc.nat({ max: 2 })).map(([n, zeros]) => '0'.repeat(zeros) + n.toString());
const id = fc.tuple(digits, digits);

describe('compareStreamIds', () => {
  it('orders ids by time, then sequence, as numbers', () => {
    fc.assert(
      fc.property(id, id, ([aMs, aSeq], [bMs, bSeq]) => {
        const expected = Math.sign(Number(BigInt(aMs) - BigInt(bMs)) || Number(BigInt(aSeq) - BigInt(bSeq)));
        expect(Math.sign(compareStreamIds(`${aMs}-${aSeq}`, `${bMs}-${bSeq}`))).toBe(expected);
      }),
      { seed: 13, numRuns: 2000 },
    );
  });

  it('tells ids apart by their lengths and by their digits', () => {
    expect(compareStreamIds('999-0', '1000-0')).toBeLessThan(0);
    expect(compareStreamIds('1700000000000-10', '1700000000000-9')).toBeGreaterThan(0);
    expect(compareStreamIds('1700000000001-0', '1700000000000-99')).toBeGreaterThan(0);
    expect(compareStreamIds('0-0', '00-000')).toBe(0);
  });
});
