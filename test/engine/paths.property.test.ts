import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PipelineSpec } from '../../src/core/pipeline.js';
import { transforms } from './fakes.js';
import { runFiles, type RunWith } from './run-files.js';

// Random pipelines over random inputs: every path the engine can take must write the same output, the same dead
// letters and the same counts as the line-block path on the main thread.

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wire-paths-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const text = fc.string({ unit: fc.constantFrom('a', 'B', 'é', '😀', '\u2028', '"', '\\', ' ', '\t', '{', '1'), maxLength: 8 });
const nested = (depth: number, open: string, close: string) => open.repeat(depth) + close.repeat(depth);

/** One line of input, as bytes: good records of several shapes, and every kind of bad line. */
const line: fc.Arbitrary<Buffer> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ n: fc.integer({ min: -50, max: 50 }), s: text }).map((v) => Buffer.from(JSON.stringify(v))) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v))) },
  { weight: 1, arbitrary: fc.record({ n: fc.integer(), s: text }).map((v) => Buffer.from(JSON.stringify(v, null, 1).replace(/\n/g, ' '))) },
  { weight: 1, arbitrary: fc.constantFrom('{not json', '{"n":1,}', '[1 2]', 'nul', '"open', '01', '{"n":1}}').map((s) => Buffer.from(s)) },
  { weight: 1, arbitrary: fc.constantFrom(1000, 1001, 3000).map((d) => Buffer.from(nested(d, '[', ']'))) },
  { weight: 1, arbitrary: fc.constantFrom(1000, 6000).map((d) => Buffer.from('{"a":'.repeat(d) + '1' + '}'.repeat(d))) },
  { weight: 1, arbitrary: fc.constantFrom('{"s":"caf\xe9"}', '\xff\xfe', '{"s":"\xed\xa0\x80"}', '"\xc3"').map((s) => Buffer.from(s, 'latin1')) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\t', '\r').map((s) => Buffer.from(s)) },
);

const step = fc.constantFrom<[string, Record<string, unknown>]>(
  ['filter', { expr: 'n % 2 == 0' }],
  ['filter', { expr: 'true' }],
  ['map', { set: { m: 'n * 2', u: 'upper(s)' } }],
  ['map', { remove: ['s'] }],
  ['key', { expr: 's' }],
  ['uppercase', {}],
);

/** A way to run the pipeline: lanes, workers, a rate limit, the record path. */
const path = fc.record({
  parallelism: fc.integer({ min: 1, max: 4 }),
  workers: fc.integer({ min: 0, max: 2 }),
  rateLimit: fc.option(fc.constant(1_000_000), { nil: undefined }),
  recordPath: fc.boolean(),
  batchSize: fc.integer({ min: 1, max: 50 }),
});

describe('every path of the engine', () => {
  it('gives the same output, dead letters and counts for random pipelines and inputs (property)', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { minLength: 1, maxLength: 100 }),
        fc.boolean(),
        fc.array(step, { maxLength: 3 }),
        path,
        async (lines, crlf, chain, how) => {
          const input = join(dir, `in-${run}.jsonl`);
          const parts: Buffer[] = [];
          for (const l of lines) parts.push(l, Buffer.from(crlf ? '\r\n' : '\n'));
          await writeFile(input, Buffer.concat(parts));
          const base: Partial<PipelineSpec> = { transforms: transforms(...chain) };
          const reference = await runFiles(dir, `ref-${run}`, input, base);
          const overrides: Partial<PipelineSpec> = { ...base, parallelism: how.parallelism, workers: how.workers, batchSize: how.batchSize };
          if (how.rateLimit !== undefined) Object.assign(overrides, { rateLimit: how.rateLimit });
          const options: RunWith = how.recordPath ? { recordPath: true } : {};
          const other = await runFiles(dir, `other-${run}`, input, overrides, options);
          run++;
          expect(reference.counts.state).toBe('stopped');
          // Counts, not the checkpoint: a trailing blank line is inside a block's position but after the last record's.
          const { checkpoint: _a, ...counts } = other.counts;
          const { checkpoint: _b, ...expected } = reference.counts;
          expect(counts).toEqual(expected);
          const sorted = (letters: readonly object[]) => letters.map((l) => JSON.stringify(l)).sort();
          expect(sorted(other.letters)).toEqual(sorted(reference.letters));
          // Lanes keep order within a key only: across lanes, compare what was written, not its order.
          if (how.parallelism === 1) expect(other.output.equals(reference.output)).toBe(true);
          else expect(other.output.toString('latin1').split('\n').sort()).toEqual(reference.output.toString('latin1').split('\n').sort());
        },
      ),
      { seed: 20261203, numRuns: 40, endOnFailure: true },
    );
  }, 120_000);
});
