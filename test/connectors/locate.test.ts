import fc from 'fast-check';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LineLocator } from '../../src/connectors/file/locate.js';
import { FileSource, type FileSourceConfig } from '../../src/connectors/sources/file.js';
import { DLQ, CountingSource, MemorySink, fakeRegistry, spec, transforms } from '../engine/fakes.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import { runPipeline } from '../../src/engine/runner.js';
import { StdinSource } from '../../src/connectors/sources/stdin.js';
import { StdoutSink } from '../../src/connectors/sinks/stdout.js';
import { Readable, Writable } from 'node:stream';
import { openOptions, positions, readAll, tempDir } from './helpers.js';

let dir: string;
let done: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup: done } = await tempDir());
});
afterEach(() => done());

function fileSource(config: Partial<FileSourceConfig> & { path: string }): FileSource {
  return new FileSource({ format: 'jsonl', follow: false, poll_interval: 250, encoding: 'utf8', strict: false, ...config });
}

/** The 1-based line number of the line that ends at `end` (past its newline, or at the end of the text), counted by hand. */
function lineAt(text: Buffer, end: number): number {
  let n = 1;
  for (let i = 0; i < end - 1; i++) if (text[i] === 10) n++;
  return n;
}

describe('LineLocator', () => {
  it('numbers the line ending at each offset, asked in any order and over several calls (property)', async () => {
    const path = join(dir, 'lines.txt');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 60 }),
        fc.boolean(),
        fc.array(fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }),
        async (lines, endsWithNewline, asks) => {
          const text = Buffer.from(lines.join('\n') + (endsWithNewline ? '\n' : ''));
          await writeFile(path, text);
          // Where each line ends: past its newline, or the end of the file for a last line without one.
          const ends: number[] = [];
          for (let i = 0; i < text.length; i++) if (text[i] === 10) ends.push(i + 1);
          if (!endsWithNewline && text.length > 0) ends.push(text.length);
          if (ends.length === 0) return;
          const locator = new LineLocator();
          for (const ask of asks) {
            const offsets = ask.map((k) => ends[k % ends.length]!);
            expect(await locator.lines(path, offsets)).toEqual(offsets.map((end) => lineAt(text, end)));
          }
        },
      ),
      { seed: 14, numRuns: 150 },
    );
  });

  it('counts across its reads of a large file, and says nothing for an offset past its end', async () => {
    const path = join(dir, 'big.jsonl');
    const line = (i: number) => JSON.stringify({ i, pad: 'x'.repeat(i % 97) });
    const text = Buffer.from(Array.from({ length: 60_000 }, (_, i) => line(i)).join('\n') + '\n');
    expect(text.length).toBeGreaterThan(3 * 1024 * 1024);
    await writeFile(path, text);
    const ends: number[] = [];
    for (let i = 0; i < text.length; i++) if (text[i] === 10) ends.push(i + 1);
    const locator = new LineLocator();
    const asked = [59_999, 3, 31_337, 45_000, 12];
    expect(await locator.lines(path, asked.map((k) => ends[k]!))).toEqual(asked.map((k) => k + 1));
    expect(await locator.lines(path, [ends[20_000]!, text.length + 10])).toEqual([20_001, undefined]);
  });
});

describe('file source: locate', () => {
  it('gives the file and line of a jsonl record, and of a csv row (its last line)', async () => {
    const jsonl = join(dir, 'a.jsonl');
    await writeFile(jsonl, '{"n":1}\n\n{"n":2}\n{"n":3}');
    const source = fileSource({ path: jsonl });
    const read = positions(await readAll(source));
    expect(await source.locate(read)).toEqual([1, 3, 4].map((line) => ({ file: jsonl, line })));

    const csv = join(dir, 'a.csv');
    await writeFile(csv, 'a,b\n1,2\n"x\ny",3\n4,5\n');
    const rows = fileSource({ path: csv, format: 'csv' });
    expect(await rows.locate(positions(await readAll(rows)))).toEqual([2, 4, 5].map((line) => ({ file: csv, line })));
  });

  it('gives the element index for format json, and the file of each record for a glob', async () => {
    const json = join(dir, 'a.json');
    await writeFile(json, '[{"n":0},{"n":1},{"n":2}]');
    const array = fileSource({ path: json, format: 'json' });
    expect(await array.locate(positions(await readAll(array)))).toEqual([0, 1, 2].map((index) => ({ file: json, index })));

    await writeFile(join(dir, 'p-1.jsonl'), '{"n":1}\n{"n":2}\n');
    await writeFile(join(dir, 'p-2.jsonl'), '{"n":3}\n');
    const glob = fileSource({ path: join(dir, 'p-*.jsonl') });
    await glob.open(openOptions());
    expect(await glob.locate([{ file: join(dir, 'p-2.jsonl'), offset: 8 }, { file: join(dir, 'p-1.jsonl'), offset: 16 }, undefined])).toEqual([
      { file: join(dir, 'p-2.jsonl'), line: 1 },
      { file: join(dir, 'p-1.jsonl'), line: 2 },
      undefined,
    ]);
    await glob.close();
  });
});

describe('dead letters say where their record was', () => {
  it('a source that cannot locate records gives their position, and every letter names the pipeline', async () => {
    const dlq = new MemorySink();
    const summary = await runPipeline({
      spec: spec({ name: 'orders', transforms: transforms(['reject-digit', { digit: 7 }]), deadLetter: DLQ }),
      registry: fakeRegistry({ source: new CountingSource({ count: 30 }), sink: new MemorySink(), deadLetter: dlq }),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: dir,
    }).done;
    expect(summary.deadLettered).toBe(3);
    const letters = dlq.values() as { pipeline: string; source: unknown; record: { n: number } }[];
    expect(letters.map((l) => [l.pipeline, l.source, l.record.n])).toEqual([
      ['orders', { position: 7 }, 7],
      ['orders', { position: 17 }, 17],
      ['orders', { position: 27 }, 27],
    ]);
  });

  it('from stdin, the byte offset just after the line, on the line path as on the record path', async () => {
    const input = '{"n":1}\n{oops\n{"n":3}\n{bad';
    const letters = async (lineSink: boolean): Promise<unknown[]> => {
      const dlq = new MemorySink();
      const sink = lineSink ? new StdoutSink({ format: 'jsonl' }, new Writable({ write: (_c, _e, cb) => cb() })) : new MemorySink();
      await runPipeline({
        spec: spec({ deadLetter: DLQ }),
        registry: fakeRegistry({ source: new StdinSource({ format: 'jsonl' }, Readable.from([Buffer.from(input)])), sink, deadLetter: dlq }),
        checkpointStore: new MemoryCheckpointStore(),
        dataDir: dir,
      }).done;
      return (dlq.values() as { source: unknown }[]).map((l) => l.source);
    };
    // `{oops` ends at byte 14 (past its newline); `{bad`, the last line without a newline, at the input's end, 26.
    expect(await letters(true)).toEqual([{ position: 14 }, { position: 26 }]);
    expect(await letters(false)).toEqual([{ position: 14 }, { position: 26 }]);
  });
});
