/**
 * The key-value model the simulator's clients are checked against: put, get and compare-and-set on
 * string keys. Keys are independent, so the history is partitioned by key.
 */
import type { Model, Operation } from './linearizability.js';

export type KvInput =
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'cas'; readonly key: string; readonly expect: string | null; readonly value: string };

export type KvOutput =
  | { readonly op: 'put' }
  | { readonly op: 'get'; readonly value: string | null }
  | { readonly op: 'cas'; readonly ok: boolean };

export type KvOperation = Operation<KvInput, KvOutput>;

/** The value of one key; null when absent. */
type KeyState = string | null;

export const kvModel: Model<KeyState, KvInput, KvOutput> = {
  partition(ops) {
    const byKey = new Map<string, KvOperation[]>();
    for (const op of ops) {
      const list = byKey.get(op.input.key);
      if (list === undefined) byKey.set(op.input.key, [op]);
      else list.push(op);
    }
    return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
  },
  init: () => null,
  step(s, input, output) {
    switch (input.op) {
      case 'put':
        return { ok: output === undefined || output.op === 'put', next: input.value };
      case 'get':
        return { ok: output === undefined || (output.op === 'get' && output.value === s), next: s };
      case 'cas': {
        // The effect is decided by the state alone, so an unknown outcome needs no branching.
        const swapped = s === input.expect;
        const ok = output === undefined || (output.op === 'cas' && output.ok === swapped);
        return { ok, next: swapped ? input.value : s };
      }
    }
  },
  key: (s) => (s === null ? '\u0000' : `=${s}`),
  describe(op) {
    const i = op.input;
    const o = op.output;
    const call = i.op === 'put' ? `put(${i.key}, ${i.value})` : i.op === 'get' ? `get(${i.key})` : `cas(${i.key}, ${String(i.expect)} -> ${i.value})`;
    const out = o === undefined ? '?' : o.op === 'get' ? String(o.value) : o.op === 'cas' ? String(o.ok) : 'ok';
    const ret = Number.isFinite(op.ret) ? String(op.ret) : 'never';
    return `c${op.client} [${op.call}, ${ret}] ${call} -> ${out}`;
  },
};
