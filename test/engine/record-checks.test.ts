// The check of what comes out of the transforms (`writable`): a value JSON cannot hold is rejected at the sink stage
// as read, whatever its shape. For a sink that writes fields, a flat plain object is let through without being
// written as JSON first (JSON always holds it); for any other sink every object value is written ahead of it.
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
    const out = writable(values.map(changed), false);
    expect(out.records.map((r) => r.position)).toEqual([{ n: 0 }, { n: 6 }, { n: 7 }, { n: 8 }]);
    expect(out.rejected.map((r) => [r.record.position, r.stage])).toEqual([1, 2, 3, 4, 5].map((n) => [{ n }, SINK_STAGE]));
    for (const record of out.records) expect(() => record.json()).not.toThrow();
  });

  it('writes every changed object value as JSON ahead of the sink unless the sink writes fields', () => {
    const flat = [changed({ a: 1 }, 0), changed({ b: 'x' }, 1)];
    writable(flat);
    expect(flat.map((r) => (r as unknown as { _json?: string })._json)).toEqual(['{"a":1}', '{"b":"x"}']);
    const lazy = [changed({ a: 1 }, 0), changed({ n: { b: 2 } }, 1)];
    writable(lazy, false);
    expect(lazy.map((r) => (r as unknown as { _json?: string })._json)).toEqual([undefined, '{"n":{"b":2}}']);
  });

  it('leaves records read as raw JSON unparsed (their text is written as read)', () => {
    for (const eager of [true, false]) {
      const records = [WireRecord.fromRaw('{"a":1}', 0), WireRecord.fromRaw(new TextEncoder().encode('{"b":[2]}'), 1)];
      expect(writable(records, eager).records).toEqual(records);
      expect(records.map((r) => r.parsed)).toEqual([false, false]);
    }
  });

  it('lets through exactly the values whose JSON can be written', () => {
    fc.assert(
      fc.property(fc.array(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.double(), fc.boolean(), fc.constant(null), fc.bigInt(), fc.object()), { maxKeys: 4 }), { maxLength: 20 }), (values) => {
        const records = values.map(changed);
        const out = writable(records, false);
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
