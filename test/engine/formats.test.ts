import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PipelineSpec } from '../../src/core/pipeline.js';
import { transforms } from './fakes.js';
import { runFiles, type RunWith } from './run-files.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wire-formats-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

/** Every way the engine can take one pipeline: block or record path, inline or on workers, with a rate limit. */
const PATHS: [string, Partial<PipelineSpec>, RunWith][] = [
  ['blocks', {}, {}],
  ['records', {}, { recordPath: true }],
  ['workers', { workers: 2 }, {}],
  ['rate-limited', { rateLimit: 1_000_000 }, {}],
  ['lanes', { parallelism: 3 }, {}],
];

const good = (i: number) => JSON.stringify({ n: i, s: `é${i}` });
const latin1 = Buffer.from('{"n":"caf\xe9"}', 'latin1');

/** jsonl with malformed lines, a line nested past the depth limit and a line that is not UTF-8 among good ones. */
async function jsonlInput(): Promise<string> {
  const path = join(dir, 'in.jsonl');
  const parts: Buffer[] = [];
  for (let i = 0; i < 2_000; i++) {
    if (i % 401 === 3) parts.push(Buffer.from('{not json'));
    else if (i === 500) parts.push(Buffer.from('['.repeat(1001) + ']'.repeat(1001)));
    else if (i === 700) parts.push(latin1);
    else if (i === 900) parts.push(Buffer.from('[1,2,]'));
    else parts.push(Buffer.from(good(i)));
    parts.push(Buffer.from('\n'));
  }
  await writeFile(path, Buffer.concat(parts));
  return path;
}

describe('format: jsonl means JSON on every path', () => {
  it('sends malformed, too deep and non-UTF-8 lines to the dead letter with no transforms, as with one', async () => {
    const input = await jsonlInput();
    const plain = await runFiles(dir, 'plain', input);
    expect(plain.counts).toMatchObject({ state: 'stopped', recordsIn: 2_000, recordsOut: 1_992, deadLettered: 8, errors: 8 });
    const lines = plain.output.toString('utf8').split('\n');
    expect(lines).not.toContain('{not json');
    expect(lines.every((l) => l === '' || JSON.parse(l) !== undefined)).toBe(true);
    expect(plain.letters.map((l) => l.stage)).toEqual(Array(8).fill('source'));
    expect(plain.letters[0]).toMatchObject({ code: 'INVALID_INPUT', record: '{not json' });
    expect(plain.letters.find((l) => String(l.error).includes('deeper'))).toMatchObject({ error: 'malformed JSON: nested deeper than 1000 levels' });
    expect(plain.letters.find((l) => 'raw_base64' in l)).toEqual({
      error: 'invalid UTF-8 at byte 9 of the line',
      code: 'INVALID_INPUT',
      stage: 'source',
      attempts: 1,
      source: { file: input, line: 701 },
      raw_base64: latin1.toString('base64'),
    });
    // Every letter says where its line is: the malformed ones are lines 4, 405, 806… (i % 401 === 3, from line 1).
    expect(plain.letters.filter((l) => l.record === '{not json').map((l) => l.source)).toEqual(
      [4, 405, 806, 1207, 1608].map((line) => ({ file: input, line })),
    );
    const filtered = await runFiles(dir, 'with-transform', input, { transforms: transforms(['filter', { expr: 'true' }]) });
    expect(filtered.output).toEqual(plain.output);
    expect(filtered.letters).toEqual(plain.letters);
    expect(filtered.counts).toEqual(plain.counts);
  });

  for (const [name, overrides, options] of PATHS) {
    it(`gives the same output, dead letters and counts on the ${name} path, with and without transforms`, async () => {
      const input = await jsonlInput();
      for (const chain of [[], transforms(['map', { set: { m: 'n * 2' } }])]) {
        const base = await runFiles(dir, 'base', input, { transforms: chain });
        const other = await runFiles(dir, name, input, { transforms: chain, ...overrides }, options);
        expect(other.counts).toEqual(base.counts);
        expect(other.letters.map((l) => JSON.stringify(l)).sort()).toEqual(base.letters.map((l) => JSON.stringify(l)).sort());
        const sorted = (b: Buffer) => b.toString('utf8').split('\n').sort();
        if (overrides.parallelism === undefined) expect(other.output).toEqual(base.output);
        else expect(sorted(other.output)).toEqual(sorted(base.output));
      }
    });
  }

  it('format lines copies lines as read, and dead-letters a line that is not UTF-8 on every path', async () => {
    const input = join(dir, 'in.txt');
    await writeFile(input, Buffer.concat([Buffer.from('plain\n{not json\n'), latin1, Buffer.from('\n\nlast\n')]));
    const source = { type: 'file', config: { format: 'lines' } };
    const sink = (name: string) => ({ type: 'file', config: { path: join(dir, `${name}.out`), format: 'lines' } });
    const blocks = await runFiles(dir, 'blocks', input, { source, sink: sink('blocks') });
    expect(blocks.output.toString('utf8')).toBe('plain\n{not json\n\nlast\n');
    expect(blocks.letters).toEqual([
      {
        error: 'invalid UTF-8 at byte 9 of the line',
        code: 'INVALID_INPUT',
        stage: 'source',
        attempts: 1,
        source: { file: input, line: 3 },
        raw_base64: latin1.toString('base64'),
      },
    ]);
    for (const [name, overrides, options] of PATHS) {
      const other = await runFiles(dir, name, input, { source, sink: sink(name), ...overrides }, options);
      expect(other.letters).toEqual(blocks.letters);
      expect(other.counts).toEqual(blocks.counts);
    }
  });
});
