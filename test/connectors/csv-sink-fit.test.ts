import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRegistry } from '../../src/connectors/registry.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import { runPipeline } from '../../src/engine/runner.js';
import { spec } from '../engine/fakes.js';
import { tempDir } from './helpers.js';

let dir: string;
let done: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup: done } = await tempDir());
});
afterEach(() => done());

/** jsonl lines → file source → csv file sink, with a dead-letter file; returns the csv and the dead letters. */
async function toCsv(lines: string[], sinkConfig: Record<string, unknown> = {}) {
  const input = join(dir, 'in.jsonl');
  await writeFile(input, lines.join('\n') + '\n');
  const out = join(dir, 'out.csv');
  const dead = join(dir, 'dead.jsonl');
  const summary = await runPipeline({
    spec: spec({
      source: { type: 'file', config: { path: input } },
      sink: { type: 'file', config: { path: out, format: 'csv', ...sinkConfig } },
      deadLetter: { type: 'file', config: { path: dead } },
    }),
    registry: createRegistry(),
    checkpointStore: new MemoryCheckpointStore(),
    dataDir: dir,
  }).done;
  const letters = (await readFile(dead, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as { error: string; stage: string; record: unknown; source: { line: number } });
  return { summary, csv: await readFile(out, 'utf8'), letters };
}

describe('csv file sink: what does not fit the columns', () => {
  it('dead-letters records that are not objects instead of writing an empty row', async () => {
    const { summary, csv, letters } = await toCsv(['{"a":1,"b":2}', '"just text"', '[1,2]', '{"a":3,"b":4}']);
    expect(csv).toBe('a,b\n1,2\n3,4\n');
    expect(letters.map((l) => [l.stage, l.record, l.source.line])).toEqual([
      ['sink', 'just text', 2],
      ['sink', [1, 2], 3],
    ]);
    expect(letters[0]!.error).toMatch(/csv: the record is a string, not an object/);
    expect(summary).toMatchObject({ recordsIn: 4, recordsOut: 2, deadLettered: 2, unconfirmed: 0 });
  });

  it('without columns, dead-letters a record with a field the first record lacked instead of dropping the field', async () => {
    const { summary, csv, letters } = await toCsv(['{"a":1,"b":2}', '{"a":3,"b":4,"c":5}', '{"a":6}']);
    // A missing field is an empty cell; an extra one cannot be written without losing it.
    expect(csv).toBe('a,b\n1,2\n6,\n');
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ stage: 'sink', record: { a: 3, b: 4, c: 5 } });
    expect(letters[0]!.error).toMatch(/field\(s\) c not among the columns \(a, b\).*`columns`/);
    expect(summary).toMatchObject({ recordsOut: 2, deadLettered: 1 });
  });

  it('with columns, writes those fields of every object record, leaving the rest out by choice', async () => {
    const { csv, letters } = await toCsv(['{"a":1,"b":2,"c":3}', '{"c":9,"d":8}', '7'], { columns: ['c', 'a'] });
    expect(csv).toBe('c,a\n3,1\n9,\n');
    expect(letters.map((l) => l.record)).toEqual([7]);
  });

  it('writes no header until some record fits', async () => {
    const { csv, letters } = await toCsv(['1', '2']);
    expect(csv).toBe('');
    expect(letters).toHaveLength(2);
  });
});
