// Transforms for engine tests. Imported by worker threads too (as `transformsModule`), so no vitest here.
import { WireError } from '../../src/core/errors.js';
import type { ComponentDefinition, Transform } from '../../src/core/ports.js';
import type { Batch } from '../../src/core/record.js';

type Value = { n: number; [k: string]: unknown };

function define(type: string, create: (config: Record<string, unknown>) => Transform): ComponentDefinition {
  return { kind: 'transform', type, description: type, schema: {}, create };
}

export const transformDefinitions: ComponentDefinition[] = [
  // value.n *= factor
  define('scale', (config) => ({
    process(batch: Batch) {
      const factor = Number(config.factor ?? 2);
      for (const r of batch) {
        const v = r.value as Value;
        r.value = { ...v, n: v.n * factor };
      }
      return batch;
    },
  })),
  // keeps records whose n is a multiple of `of`
  define('keep-multiple', (config) => ({
    process(batch: Batch) {
      const of = Number(config.of ?? 2);
      return batch.filter((r) => (r.value as Value).n % of === 0);
    },
  })),
  // ctx.reject for records whose n ends in the digit `digit`
  define('reject-digit', (config) => ({
    process(batch, ctx) {
      const digit = Number(config.digit ?? 3);
      const out: Batch = [];
      for (const r of batch) {
        if ((r.value as Value).n % 10 === digit) ctx.reject(r, new WireError('INVALID_INPUT', `n ends in ${digit}`));
        else out.push(r);
      }
      return out;
    },
  })),
  // throws for the whole batch when any record's n is a multiple of `every` (the engine isolates the record)
  define('throw-multiple', (config) => ({
    process(batch: Batch) {
      const every = Number(config.every ?? 100);
      for (const r of batch) if ((r.value as Value).n % every === 0) throw new Error(`cannot take ${(r.value as Value).n}`);
      return batch;
    },
  })),
  // reads the value: a malformed JSON line throws INVALID_INPUT
  define('parse', () => ({
    process(batch: Batch) {
      for (const r of batch) void r.value;
      return batch;
    },
  })),
  // sets the key from value[field]
  define('key-from', (config) => ({
    process(batch: Batch) {
      const field = String(config.field ?? 'k');
      for (const r of batch) r.key = String((r.value as Value)[field]);
      return batch;
    },
  })),
  // a string value, to check values that are strings cross threads as strings
  define('to-text', () => ({
    process(batch: Batch) {
      for (const r of batch) r.value = `n=${(r.value as Value).n}`;
      return batch;
    },
  })),
  // CPU work per record: parse, compute, stringify (for measuring workers)
  define('busy', (config) => ({
    process(batch: Batch) {
      const rounds = Number(config.rounds ?? 200);
      for (const r of batch) {
        const v = r.value as Value;
        let h = v.n;
        for (let i = 0; i < rounds; i++) h = (Math.imul(h, 31) + i) | 0;
        r.value = { ...v, h, user: String(v.user ?? '').toUpperCase() };
      }
      return batch;
    },
  })),
  // blocks the thread it runs on for good when it meets n === at: only ever used on worker threads
  define('spin-at', (config) => ({
    process(batch: Batch) {
      const at = Number(config.at ?? 500);
      if (batch.some((r) => (r.value as Value).n === at)) for (;;);
      return batch;
    },
  })),
  // ends the thread it runs on when it meets n === at: only ever used on worker threads
  define('crash-at', (config) => ({
    process(batch: Batch) {
      const at = Number(config.at ?? 500);
      if (batch.some((r) => (r.value as Value).n === at)) process.exit(3);
      return batch;
    },
  })),
];
