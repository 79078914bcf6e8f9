import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { recordsOf, type LineBlock } from '../../src/core/line-block.js';
import type { Position } from '../../src/core/record.js';
import { FileSource, fileSourceDefinition } from '../../src/connectors/sources/file.js';
import { openOptions, readAll, tempDir } from './helpers.js';

const source = (config: Record<string, unknown>): FileSource => fileSourceDefinition.create(config) as FileSource;

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

async function readBlocks(config: Record<string, unknown>, from?: Position): Promise<LineBlock[]> {
  const s = source(config);
  await s.open(openOptions(undefined, from));
  const out: LineBlock[] = [];
  try {
    for await (const block of s.blocks()!) out.push(block);
  } finally {
    await s.close();
  }
  return out;
}

/** What the record path reads: each record's text, and the last position of the file. */
async function viaRecords(config: Record<string, unknown>, from?: Position): Promise<{ texts: string[]; last: Position | undefined }> {
  const records = (await readAll(source(config), openOptions(undefined, from))).flat();
  return { texts: records.map((r) => r.text()), last: records[records.length - 1]?.position };
}

function blockTexts(blocks: LineBlock[]): string[] {
  return blocks.flatMap((b) => recordsOf(b).map((r) => r.text()));
}

describe('file source: line blocks', () => {
  it('give the same records and end position as read(), across several reads and a last line without newline', async () => {
    const path = join(dir, 'in.jsonl');
    const lines = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(i % 97), u: i % 13 === 0 ? 'é€' : '' }));
    await writeFile(path, lines.join('\n') + '\r\n\n' + '{"last":true}');
    const blocks = await readBlocks({ path });
    expect(blocks.length).toBeGreaterThan(1);
    for (const b of blocks) expect(b.data[b.data.length - 1]).toBe(10);
    // Each block owns its buffer (the engine may transfer it to a worker thread).
    expect(new Set(blocks.map((b) => b.data.buffer)).size).toBe(blocks.length);
    for (const b of blocks) expect(b.data.byteOffset).toBe(0);
    const expected = await viaRecords({ path });
    expect(blockTexts(blocks)).toEqual(expected.texts);
    expect(blocks[blocks.length - 1]!.position).toBe(expected.last);
  });

  it('resume after a position exactly as read() does', async () => {
    const path = join(dir, 'in.jsonl');
    const text = Array.from({ length: 2000 }, (_, i) => `{"i":${i}}`).join('\n') + '\n';
    await writeFile(path, text);
    const from = text.indexOf('{"i":1500}');
    const blocks = await readBlocks({ path }, from);
    expect(blockTexts(blocks)).toEqual((await viaRecords({ path }, from)).texts);
    expect(blockTexts(blocks)[0]).toBe('{"i":1500}');
    expect(blocks[blocks.length - 1]!.position).toBe(Buffer.byteLength(text));
  });

  it('carry a line longer than one read whole into one block', async () => {
    const path = join(dir, 'in.jsonl');
    const long = JSON.stringify({ big: 'y'.repeat(300_000) });
    await writeFile(path, `{"a":1}\n${long}\n{"b":2}\n`);
    const blocks = await readBlocks({ path });
    expect(blockTexts(blocks)).toEqual(['{"a":1}', long, '{"b":2}']);
  });

  it('cut reads into blocks at newlines whatever the mix of line lengths, positions matching read()', async () => {
    const path = join(dir, 'in.jsonl');
    let seed = 7;
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const lines = Array.from({ length: 400 }, (_, i) => JSON.stringify({ i, pad: 'z'.repeat(next() % 5 === 0 ? next() % 150_000 : next() % 300) }));
    await writeFile(path, lines.join('\n') + '\n');
    const blocks = await readBlocks({ path });
    expect(blockTexts(blocks)).toEqual(lines);
    const s = source({ path });
    const ends = new Set((await readAll(s)).flat().map((r) => r.position));
    for (const b of blocks) expect(ends.has(b.position)).toBe(true);
    // A read is 256 KiB after the carried unfinished line (here under 150 KB).
    for (const b of blocks) expect(b.data.length).toBeLessThan(256 * 1024 + 150_000);
  });

  it('give glob positions per file and plain lines as strings', async () => {
    await mkdir(join(dir, 'logs'));
    await writeFile(join(dir, 'logs', 'a.log'), 'one\ntwo\n');
    await writeFile(join(dir, 'logs', 'b.log'), 'three');
    const blocks = await readBlocks({ path: join(dir, 'logs', '*.log'), format: 'lines' });
    expect(blocks.map((b) => b.format)).toEqual(['lines', 'lines']);
    expect(blockTexts(blocks)).toEqual(['one', 'two', 'three']);
    expect(blocks.map((b) => b.position)).toEqual([
      { file: join(dir, 'logs', 'a.log'), offset: 8 },
      { file: join(dir, 'logs', 'b.log'), offset: 5 },
    ]);
  });

  it('are offered only where they mean the same records: not for csv, json or follow', async () => {
    const path = join(dir, 'in.csv');
    await writeFile(path, 'a\n1\n');
    for (const config of [{ path, format: 'csv' }, { path, format: 'json' }, { path, follow: true }]) {
      const s = source(config);
      expect(s.blocks()).toBeUndefined();
    }
  });
});
