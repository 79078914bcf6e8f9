// What the redis tests write and check: numbered records with a payload that depends on the number, so a
// record read back is checked by its whole content, and every number is counted (missing, duplicated).
import type { Redis } from 'ioredis';

export const payloadOf = (n: number): string => `p${(n * 7919) % 100_003}`;

export interface Tally {
  readonly missing: number[];
  readonly duplicates: number;
  readonly wrong: string[];
}

/** Counts every record `{ n, payload }` among `values` against the numbers 0..count-1. */
export function tally(values: Iterable<string>, count: number): Tally {
  const seen = new Uint32Array(count);
  const wrong: string[] = [];
  for (const text of values) {
    const value = JSON.parse(text) as { n?: unknown; payload?: unknown };
    if (typeof value.n !== 'number' || value.n < 0 || value.n >= count || value.payload !== payloadOf(value.n)) {
      if (wrong.length < 5) wrong.push(text);
      continue;
    }
    seen[value.n]!++;
  }
  const missing: number[] = [];
  let duplicates = 0;
  for (let n = 0; n < count; n++) {
    if (seen[n] === 0) missing.push(n);
    else duplicates += seen[n]! - 1;
  }
  return { missing: missing.slice(0, 20).concat(missing.length > 20 ? [-missing.length] : []), duplicates, wrong };
}

/** The `value` field of every entry of `stream`. */
export async function streamValues(client: Redis, stream: string): Promise<string[]> {
  const values: string[] = [];
  let start = '-';
  for (;;) {
    const entries = await client.xrange(stream, start, '+', 'COUNT', 10_000);
    for (const [, fields] of entries) {
      const at = fields.indexOf('value');
      values.push(at >= 0 ? fields[at + 1]! : JSON.stringify(Object.fromEntries(pairs(fields))));
    }
    if (entries.length < 10_000) return values;
    start = `(${entries[entries.length - 1]![0]}`;
  }
}

function pairs(fields: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) out.push([fields[i]!, fields[i + 1]!]);
  return out;
}

/** Appends records `from..to-1` to `stream`, pipelined in chunks (what a producer would do). */
export async function fillStream(client: Redis, stream: string, from: number, to: number): Promise<void> {
  for (let start = from; start < to; start += 5000) {
    const pipeline = client.pipeline();
    for (let n = start; n < Math.min(to, start + 5000); n++) pipeline.xadd(stream, '*', 'value', JSON.stringify({ n, payload: payloadOf(n) }));
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error !== null);
    if (failed !== undefined) throw failed[0];
  }
}
