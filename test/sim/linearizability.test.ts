import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kvModel, type KvInput, type KvOperation, type KvOutput } from './kv-model.js';
import { checkLinearizable } from './linearizability.js';

const put = (client: number, key: string, value: string, call: number, ret: number): KvOperation => ({
  client,
  input: { op: 'put', key, value },
  output: Number.isFinite(ret) ? { op: 'put' } : undefined,
  call,
  ret,
});
const get = (client: number, key: string, value: string | null, call: number, ret: number): KvOperation => ({
  client,
  input: { op: 'get', key },
  output: { op: 'get', value },
  call,
  ret,
});
const cas = (client: number, key: string, expect: string | null, value: string, ok: boolean | undefined, call: number, ret: number): KvOperation => ({
  client,
  input: { op: 'cas', key, expect, value },
  output: ok === undefined ? undefined : { op: 'cas', ok },
  call,
  ret,
});

const check = (ops: KvOperation[]) => checkLinearizable(kvModel, ops).result;

describe('linearizability checker: known histories', () => {
  it('accepts an empty history', () => {
    expect(check([])).toBe('ok');
  });

  it('accepts a read of the initial absent value', () => {
    expect(check([get(0, 'k', null, 0, 1)])).toBe('ok');
  });

  it('accepts a sequential put then get of the same value', () => {
    expect(check([put(0, 'k', 'a', 0, 1), get(1, 'k', 'a', 2, 3)])).toBe('ok');
  });

  it('rejects a stale read after a completed write', () => {
    expect(check([put(0, 'k', 'a', 0, 1), put(0, 'k', 'b', 2, 3), get(1, 'k', 'a', 4, 5)])).toBe('illegal');
  });

  it('rejects a lost write: a read after the write returned sees the initial value', () => {
    expect(check([put(0, 'k', 'a', 0, 1), get(1, 'k', null, 2, 3)])).toBe('illegal');
  });

  it('accepts either value for a read concurrent with a write', () => {
    expect(check([put(0, 'k', 'a', 0, 10), get(1, 'k', 'a', 1, 2)])).toBe('ok');
    expect(check([put(0, 'k', 'a', 0, 10), get(1, 'k', null, 1, 2)])).toBe('ok');
  });

  it('rejects two reads that see a concurrent write take effect and then un-take effect', () => {
    // Reader 1 saw the new value and returned before reader 2 started, which then saw the old value.
    expect(check([put(0, 'k', 'a', 0, 10), get(1, 'k', 'a', 1, 2), get(2, 'k', null, 3, 4)])).toBe('illegal');
  });

  it('accepts concurrent writes seen in one order by sequential readers', () => {
    const ops = [put(0, 'k', 'a', 0, 10), put(1, 'k', 'b', 0, 10), get(2, 'k', 'b', 11, 12), get(3, 'k', 'b', 13, 14)];
    expect(check(ops)).toBe('ok');
  });

  it('rejects sequential readers that see concurrent writes in both orders after both completed', () => {
    const ops = [put(0, 'k', 'a', 0, 10), put(1, 'k', 'b', 0, 10), get(2, 'k', 'b', 11, 12), get(3, 'k', 'a', 13, 14)];
    expect(check(ops)).toBe('illegal');
  });

  it('rejects two successful CAS from the same expected value', () => {
    const ops = [put(0, 'k', 'a', 0, 1), cas(1, 'k', 'a', 'b', true, 2, 10), cas(2, 'k', 'a', 'c', true, 3, 9)];
    expect(check(ops)).toBe('illegal');
  });

  it('accepts concurrent CAS where exactly one wins', () => {
    const ops = [put(0, 'k', 'a', 0, 1), cas(1, 'k', 'a', 'b', true, 2, 10), cas(2, 'k', 'a', 'c', false, 3, 9), get(3, 'k', 'b', 11, 12)];
    expect(check(ops)).toBe('ok');
  });

  it('rejects a CAS that failed although the expected value was there', () => {
    expect(check([put(0, 'k', 'a', 0, 1), cas(1, 'k', 'a', 'b', false, 2, 3)])).toBe('illegal');
  });

  it('rejects a read that contradicts a successful CAS', () => {
    expect(check([put(0, 'k', 'a', 0, 1), cas(1, 'k', 'a', 'b', true, 2, 3), get(2, 'k', 'a', 4, 5)])).toBe('illegal');
  });

  it('lets a write that never returned take effect late', () => {
    const ops = [put(0, 'k', 'a', 0, Infinity), get(1, 'k', null, 5, 6), get(1, 'k', 'a', 100, 101)];
    expect(check(ops)).toBe('ok');
  });

  it('lets a write that never returned never take effect', () => {
    expect(check([put(0, 'k', 'a', 0, Infinity), get(1, 'k', null, 100, 101)])).toBe('ok');
  });

  it('does not let a write that never returned take effect before its call', () => {
    expect(check([get(1, 'k', 'a', 0, 1), put(0, 'k', 'a', 2, Infinity)])).toBe('illegal');
  });

  it('lets a CAS of unknown outcome have taken effect, decided by the state', () => {
    const ops = [put(0, 'k', 'a', 0, 1), cas(1, 'k', 'a', 'b', undefined, 2, Infinity), get(2, 'k', 'b', 10, 11)];
    expect(check(ops)).toBe('ok');
    const impossible = [put(0, 'k', 'x', 0, 1), cas(1, 'k', 'a', 'b', undefined, 2, Infinity), get(2, 'k', 'b', 10, 11)];
    expect(check(impossible)).toBe('illegal');
  });

  it('checks keys independently and reports the illegal one', () => {
    const ops = [put(0, 'x', '1', 0, 1), get(1, 'x', '1', 2, 3), put(0, 'y', '1', 4, 5), get(1, 'y', null, 6, 7)];
    const report = checkLinearizable(kvModel, ops);
    expect(report.result).toBe('illegal');
    expect(report.partitions.map((p) => p.result)).toEqual(['ok', 'illegal']);
  });

  it('answers unknown rather than searching past its step bound', () => {
    // Many concurrent writes and a read that matches none: the search must try many orders.
    const ops: KvOperation[] = [];
    for (let c = 0; c < 11; c++) ops.push(put(c, 'k', `v${c}`, 0, 100));
    ops.push(get(99, 'k', 'none', 101, 102));
    expect(checkLinearizable(kvModel, ops, 50).result).toBe('unknown');
    expect(checkLinearizable(kvModel, ops).result).toBe('illegal');
  });
});

/** Runs a sequential history against a real Map: the ground truth. */
function sequentialHistory(inputs: KvInput[]): KvOperation[] {
  const map = new Map<string, string>();
  return inputs.map((input, i) => {
    let output: KvOutput;
    if (input.op === 'put') {
      map.set(input.key, input.value);
      output = { op: 'put' };
    } else if (input.op === 'get') {
      output = { op: 'get', value: map.get(input.key) ?? null };
    } else {
      const ok = (map.get(input.key) ?? null) === input.expect;
      if (ok) map.set(input.key, input.value);
      output = { op: 'cas', ok };
    }
    return { client: i % 3, input, output, call: 2 * i, ret: 2 * i + 1 };
  });
}

const keyArb = fc.constantFrom('a', 'b', 'c');
const valueArb = fc.constantFrom('1', '2', '3', '4');
const inputArb: fc.Arbitrary<KvInput> = fc.oneof(
  fc.record({ op: fc.constant('put' as const), key: keyArb, value: valueArb }),
  fc.record({ op: fc.constant('get' as const), key: keyArb }),
  fc.record({ op: fc.constant('cas' as const), key: keyArb, expect: fc.option(valueArb, { nil: null }), value: valueArb }),
);

describe('linearizability checker: properties', () => {
  it('accepts every sequential history of a real map', () => {
    fc.assert(
      fc.property(fc.array(inputArb, { maxLength: 60 }), (inputs) => {
        expect(check(sequentialHistory(inputs))).toBe('ok');
      }),
      { seed: 1, numRuns: 300 },
    );
  });

  it('detects a corrupted read in a sequential history', () => {
    fc.assert(
      fc.property(fc.array(inputArb, { minLength: 1, maxLength: 60 }), fc.nat(), (inputs, pick) => {
        const history = sequentialHistory(inputs);
        const reads = history.map((op, i) => (op.input.op === 'get' ? i : -1)).filter((i) => i >= 0);
        fc.pre(reads.length > 0);
        const at = reads[pick % reads.length]!;
        const real = history[at]!.output as { op: 'get'; value: string | null };
        history[at] = { ...history[at]!, output: { op: 'get', value: real.value === 'corrupt' ? null : 'corrupt' } };
        expect(check(history)).toBe('illegal');
      }),
      { seed: 2, numRuns: 300 },
    );
  });

  it('accepts a sequential history whose operations are stretched to overlap their neighbours', () => {
    fc.assert(
      fc.property(fc.array(inputArb, { maxLength: 40 }), fc.array(fc.nat(3)), (inputs, widen) => {
        // Widening intervals only adds possible orders; the real order stays one of them.
        const history = sequentialHistory(inputs).map((op, i) => ({ ...op, call: op.call - (widen[i] ?? 0), ret: op.ret + (widen[i] ?? 0) }));
        expect(check(history)).toBe('ok');
      }),
      { seed: 3, numRuns: 200 },
    );
  });
});
