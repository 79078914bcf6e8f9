import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CsvRecordParser, cellText, formatCsvRow } from '../../src/connectors/file/csv.js';
import { expandGlob, isGlob } from '../../src/connectors/file/glob.js';
import { LineDecoder } from '../../src/core/lines.js';
import { tempDir } from './helpers.js';

function decodeInChunks(bytes: Buffer, cuts: number[]): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  const decoder = new LineDecoder(0);
  const emit = (line: string, end: number): void => void out.push([line, end]);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  let start = 0;
  // A scratch buffer reused for every chunk, as the file source does.
  const scratch = Buffer.alloc(bytes.length + 1);
  for (const p of [...points, bytes.length]) {
    if (p <= start) continue;
    bytes.copy(scratch, 0, start, p);
    decoder.push(scratch, 0, p - start, emit);
    scratch.fill(0);
    start = p;
  }
  decoder.end(emit);
  return out;
}

describe('line decoder', () => {
  it('gives the same lines and byte offsets however the input is cut (property)', () => {
    const line = fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀', ' ', '\r', '{') });
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 10 }), (lines, trailing, cuts) => {
        const text = lines.join('\n') + (trailing ? '\n' : '');
        const bytes = Buffer.from(text);
        const expected: Array<[string, number]> = [];
        let offset = 0;
        const parts = text.split('\n');
        // An input ending in a newline has no unterminated last line.
        if (parts[parts.length - 1] === '') parts.pop();
        const terminated = text.endsWith('\n');
        parts.forEach((p, i) => {
          offset += Buffer.byteLength(p) + (i < parts.length - 1 || terminated ? 1 : 0);
          expected.push([p.endsWith('\r') ? p.slice(0, -1) : p, offset]);
        });
        expect(decodeInChunks(bytes, cuts)).toEqual(expected);
      }),
      { seed: 42, numRuns: 300 },
    );
  });
});

describe('csv', () => {
  it('round-trips any cells through format and parse (property)', () => {
    const cellArb = fc.string({ unit: fc.constantFrom('a', ',', '"', '\n', ' ', 'é') });
    fc.assert(
      fc.property(fc.array(cellArb, { minLength: 1, maxLength: 6 }), (cells) => {
        const text = formatCsvRow(cells);
        const parser = new CsvRecordParser();
        let result: string[] | undefined;
        for (const line of text.slice(0, -1).split('\n')) result = parser.pushLine(line);
        expect(result).toEqual(cells);
        expect(parser.pending).toBe(false);
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it('keeps quotes inside unquoted fields and reads trailing empty fields', () => {
    const parser = new CsvRecordParser();
    expect(parser.pushLine('a"b,,')).toEqual(['a"b', '', '']);
  });

  it('renders cells: null empty, objects as JSON, numbers as text', () => {
    expect([null, undefined, 1.5, true, { a: 1 }, 's'].map(cellText)).toEqual(['', '', '1.5', 'true', '{"a":1}', 's']);
  });
});

describe('glob', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(async () => cleanup());

  it('recognises wildcards', () => {
    expect(isGlob('a/*.jsonl')).toBe(true);
    expect(isGlob('a/b?.csv')).toBe(true);
    expect(isGlob('a/b.csv')).toBe(false);
  });

  it('matches *, ? and ** (zero or more directories) in byte order, following symlinked directories', async () => {
    await mkdir(join(dir, 'x', 'y', 'z'), { recursive: true });
    for (const f of ['B.log', 'a.log', 'x/c.log', 'x/y/z/d.log', 'x/y/e.txt', 'ab.log']) await writeFile(join(dir, f), '');
    await symlink(join(dir, 'x', 'y'), join(dir, 'link'));
    const rel = (paths: string[]) => paths.map((p) => p.slice(dir.length + 1));
    expect(rel(await expandGlob(join(dir, '*.log')))).toEqual(['B.log', 'a.log', 'ab.log']);
    expect(rel(await expandGlob(join(dir, '?.log')))).toEqual(['B.log', 'a.log']);
    expect(rel(await expandGlob(join(dir, '**', '*.log')))).toEqual([
      'B.log',
      'a.log',
      'ab.log',
      'link/z/d.log',
      'x/c.log',
      'x/y/z/d.log',
    ]);
    expect(rel(await expandGlob(join(dir, 'x', '**')))).toEqual(['x/c.log', 'x/y/e.txt', 'x/y/z/d.log']);
    expect(await expandGlob(join(dir, 'missing', '*.log'))).toEqual([]);
  });
});
