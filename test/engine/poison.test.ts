import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StdinSource } from '../../src/connectors/sources/stdin.js';
import { recordsOf } from '../../src/core/line-block.js';
import { MAX_LINE_BYTES } from '../../src/core/lines.js';
import { WireRecord } from '../../src/core/record.js';
import { transforms } from './fakes.js';
import { runFiles } from './run-files.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wire-poison-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

async function input(lines: string[]): Promise<string> {
  const path = join(dir, 'in.jsonl');
  await writeFile(path, lines.join('\n') + '\n');
  return path;
}

const deep = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

/** A js module exporting `fn`, one function of a value. */
async function jsModule(name: string, fn: string): Promise<string> {
  const path = join(dir, `${name}.mjs`);
  await writeFile(path, `export default ${fn};\n`);
  return path;
}

describe('a record that cannot be processed or written goes to the dead letter; the rest flows', () => {
  it('a line nested 6,000 deep through a map, inline, on workers and on the record path', async () => {
    const path = await input(['{"n":1}', deep(6_000), '{"n":3}']);
    const chain = transforms(['map', { set: { m: 'n' } }]);
    for (const [name, overrides, options] of [
      ['inline', {}, {}],
      ['workers', { workers: 2 }, {}],
      ['records', {}, { recordPath: true }],
    ] as const) {
      const run = await runFiles(dir, name, path, { transforms: chain, ...overrides }, options);
      expect(run.counts).toMatchObject({ state: 'stopped', recordsIn: 3, recordsOut: 2, deadLettered: 1 });
      expect(run.output.toString()).toBe('{"n":1,"m":1}\n{"n":3,"m":3}\n');
      expect(run.letters).toEqual([
        {
          error: 'malformed JSON: nested deeper than 1000 levels',
          code: 'INVALID_INPUT',
          stage: 'source',
          attempts: 1,
          source: { file: path, line: 2 },
          record: deep(6_000),
        },
      ]);
    }
  });

  it('a js result holding a BigInt or a cycle, or nested too deep, is dead-lettered as read, on the main thread and on workers', async () => {
    const path = await input(['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}']);
    const module = await jsModule(
      'poison',
      `(v) => {
        if (v.n === 2) return { ...v, big: { x: 10n } };
        if (v.n === 3) { const o = { ...v }; o.self = o; return o; }
        if (v.n === 4) { let d = v; for (let i = 0; i < 1500; i++) d = [d]; return { d }; }
        return { ...v, ok: true };
      }`,
    );
    const chain = transforms(['js', { module }]);
    const inline = await runFiles(dir, 'inline', path, { transforms: chain });
    expect(inline.counts).toMatchObject({ state: 'stopped', recordsIn: 4, recordsOut: 1, deadLettered: 3, errors: 3 });
    expect(inline.output.toString()).toBe('{"n":1,"ok":true}\n');
    expect(inline.letters.map((l) => [l.stage, l.source, l.record])).toEqual([
      ['transforms.0', { file: path, line: 2 }, { n: 2 }],
      ['transforms.0', { file: path, line: 3 }, { n: 3 }],
      ['transforms.0', { file: path, line: 4 }, { n: 4 }],
    ]);
    // `js` runs its function on a thread of its own and brings results back as JSON text: they are checked there.
    expect(inline.letters[0]!.error).toMatch(/js: cannot write the value as JSON: .*BigInt/);
    expect(inline.letters[1]!.error).toMatch(/js: cannot write the value as JSON: .*circular/);
    expect(inline.letters[2]!.error).toBe('js: cannot write the value as JSON: nested deeper than 1000 levels');
    for (const [name, overrides, options] of [
      ['workers', { workers: 2 }, {}],
      ['records', {}, { recordPath: true }],
      ['lanes', { parallelism: 2 }, {}],
    ] as const) {
      const other = await runFiles(dir, name, path, { transforms: chain, ...overrides }, options);
      expect(other.counts).toEqual(inline.counts);
      expect(other.output).toEqual(inline.output);
      expect(other.letters).toEqual(inline.letters);
    }
  });
});

describe('a line longer than the limit', () => {
  const long = 'x'.repeat(MAX_LINE_BYTES + 10);
  const letter = {
    error: `line of ${MAX_LINE_BYTES + 10} bytes is longer than ${MAX_LINE_BYTES} bytes (its first 1024 are kept)`,
    code: 'INVALID_INPUT',
    stage: 'source',
    attempts: 1,
    record: 'x'.repeat(1024),
  };

  it('goes to the dead letter from a file, on the block and record paths, and the lines after it flow', async () => {
    const path = join(dir, 'long.jsonl');
    await writeFile(path, `{"n":1}\n${long}\n{"n":3}\n${long}`);
    for (const [name, options] of [
      ['blocks', {}],
      ['records', { recordPath: true }],
    ] as const) {
      const run = await runFiles(dir, name, path, { transforms: transforms(['map', { set: { m: 'n' } }]) }, options);
      expect(run.counts).toMatchObject({ state: 'stopped', recordsIn: 4, recordsOut: 2, deadLettered: 2 });
      expect(run.output.toString()).toBe('{"n":1,"m":1}\n{"n":3,"m":3}\n');
      // The second long line is the file's last, without a newline.
      expect(run.letters).toEqual([
        { ...letter, source: { file: path, line: 2 } },
        { ...letter, source: { file: path, line: 4 } },
      ]);
    }
  });

  it('goes to the dead letter from stdin, on the block and record paths', async () => {
    const text = `{"n":1}\n${long}\n{"n":3}\n`;
    for (const path of ['blocks', 'records'] as const) {
      const source = new StdinSource({ format: 'jsonl' }, Readable.from(chunksOf(Buffer.from(text), 1 << 20)));
      await source.open({ pipeline: 't', component: 'source', dataDir: dir, signal: new AbortController().signal });
      const records: WireRecord[] = [];
      if (path === 'blocks') {
        for await (const block of source.blocks()) {
          if (block.longLine !== undefined) records.push(WireRecord.unreadableLine(block.longLine.bytes, block.longLine.error));
          records.push(...recordsOf(block));
        }
      } else {
        for await (const batch of source.read(100)) records.push(...batch);
      }
      expect(records.map((r) => r.unreadable?.message ?? r.text())).toEqual(['{"n":1}', letter.error, '{"n":3}']);
      expect(Buffer.from(records[1]!.origin as Uint8Array).toString()).toBe('x'.repeat(1024));
    }
  });
});

function* chunksOf(data: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}
