// The check of what comes out of the transforms (`writable`): a value JSON cannot hold is rejected at the sink stage
// as read, whatever its shape; a flat plain object is let through without being written as JSON first, and JSON
// always holds it.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WireRecord } from '../../src/core/record.js';
import { SINK_STAGE, writable } from '../../src/engine/record-checks.js';

const changed = (value: unknown, n: number): WireRecord => WireRecord.fromValue(value, { n });

describe('writable', () => {
  it('rejects what JSON cannot hold, flat or nested, and keeps the rest in order', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    const throwing = Object.defineProperty({}, 'x', {
      enumerable: true,
      get() {
        throw new Error('getter');
      },
    });
    const values = [
      { ok: 1 },
      { big: 10n },
      { nested: { big: 1n } },
      cycle,
      { toJSON: () => { throw new Error('toJSON'); } },
      throwing,
      { s: 'x', n: Number.NaN, b: true, z: null, u: undefined },
      Object.assign(Object.create(null) as object, { k: 'v' }),
      [1, 2],
    ];
    const out = writable(values.map(changed));
    expect(out.records.map((r) => r.position)).toEqual([{ n: 0 }, { n: 6 }, { n: 7 }, { n: 8 }]);
    expect(out.rejected.map((r) => [r.record.position, r.stage])).toEqual([1, 2, 3, 4, 5].map((n) => [{ n }, SINK_STAGE]));
    for (const record of out.records) expect(() => record.json()).not.toThrow();
  });

  it('lets through exactly the values whose JSON can be written', () => {
    fc.assert(
      fc.property(fc.array(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.double(), fc.boolean(), fc.constant(null), fc.bigInt(), fc.object()), { maxKeys: 4 }), { maxLength: 20 }), (values) => {
        const records = values.map(changed);
        const out = writable(records);
        const kept = new Set(out.records);
        for (const record of records) {
          let writes = true;
          try {
            JSON.stringify(record.value);
          } catch {
            writes = false;
          }
          expect(kept.has(record)).toBe(writes);
        }
      }),
    );
  });
});
