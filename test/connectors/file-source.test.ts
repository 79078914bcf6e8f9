import { appendFile, mkdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WireError } from '../../src/core/errors.js';
import type { Batch } from '../../src/core/record.js';
import { FileSource, fileSourceDefinition } from '../../src/connectors/sources/file.js';
import { parseFilePosition, planRead } from '../../src/connectors/file/position.js';
import { openOptions, positions, readAll, tempDir, values, waitFor } from './helpers.js';

const source = (config: Record<string, unknown>): FileSource => fileSourceDefinition.create(config) as FileSource;

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

describe('file source: formats', () => {
  it('reads jsonl lazily, skipping blank lines, with CRLF and a last line without newline', async () => {
    const path = join(dir, 'in.jsonl');
    await writeFile(path, '{"a":1}\r\n\n  \n{"a":2}\n{"a":3}');
    const batches = await readAll(source({ path }));
    const records = batches.flat();
    expect(records.map((r) => r.parsed)).toEqual([false, false, false]);
    expect(records.map((r) => r.json())).toEqual(['{"a":1}', '{"a":2}', '{"a":3}']);
    expect(values(batches)).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect(positions(batches)).toEqual([9, 21, 28]);
  });

  it('lets a malformed jsonl line through unparsed; its value throws INVALID_INPUT when read', async () => {
    const path = join(dir, 'in.jsonl');
    await writeFile(path, '{"a":1}\n{oops\n{"a":3}\n');
    const records = (await readAll(source({ path }))).flat();
    expect(records).toHaveLength(3);
    expect(() => records[1]!.value).toThrow(WireError);
    expect(records[2]!.value).toEqual({ a: 3 });
  });

  it('strict mode parses each line when read; a malformed line still throws when its value is read', async () => {
    const path = join(dir, 'in.jsonl');
    await writeFile(path, '{"a":1}\n{oops\n');
    const records = (await readAll(source({ path, strict: true }))).flat();
    expect(records[0]!.parsed).toBe(true);
    expect(records[1]!.parsed).toBe(false);
    expect(() => records[1]!.value).toThrow(/malformed JSON/);
  });

  it('reads lines as string records, keeping empty lines and non-ASCII text with exact byte positions', async () => {
    const path = join(dir, 'in.txt');
    await writeFile(path, 'héllo\n\nwörld €\r\n');
    const batches = await readAll(source({ path, format: 'lines' }));
    expect(values(batches)).toEqual(['héllo', '', 'wörld €']);
    expect(positions(batches)).toEqual([7, 8, Buffer.byteLength('héllo\n\nwörld €\r\n')]);
  });

  it('reads csv with a header, quoted commas, doubled quotes and embedded newlines', async () => {
    const path = join(dir, 'in.csv');
    await writeFile(path, 'id,name,note\r\n1,"Smith, J","said ""hi"""\r\n2,Bo,"two\nlines"\n\n3,,x,extra');
    const batches = await readAll(source({ path, format: 'csv' }));
    expect(values(batches)).toEqual([
      { id: '1', name: 'Smith, J', note: 'said "hi"' },
      { id: '2', name: 'Bo', note: 'two\nlines' },
      { id: '3', name: '', note: 'x', _3: 'extra' },
    ]);
  });

  it('rejects a csv file whose quoted field never closes', async () => {
    const path = join(dir, 'in.csv');
    await writeFile(path, 'a,b\n1,"open\n');
    await expect(readAll(source({ path, format: 'csv' }))).rejects.toThrow(/unterminated/);
  });

  it('reads a json array, element by element, positions counting elements', async () => {
    const path = join(dir, 'in.json');
    await writeFile(path, JSON.stringify([{ a: 1 }, 'two', 3]));
    const batches = await readAll(source({ path, format: 'json' }), openOptions(), 2);
    expect(batches.map((b) => b.length)).toEqual([2, 1]);
    expect(values(batches)).toEqual([{ a: 1 }, 'two', 3]);
    expect(positions(batches)).toEqual([1, 2, 3]);
    const resumed = await readAll(source({ path, format: 'json' }), openOptions(undefined, 2));
    expect(values(resumed)).toEqual([3]);
  });

  it('fails with INVALID_INPUT when a json file is not an array', async () => {
    const path = join(dir, 'in.json');
    await writeFile(path, '{"a":1}');
    await expect(readAll(source({ path, format: 'json' }))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('file source: reading', () => {
  it('splits into batches of at most max records across 64 KiB chunks, losing no line', async () => {
    const path = join(dir, 'big.jsonl');
    const n = 20_000;
    const lines: string[] = [];
    for (let i = 0; i < n; i++) lines.push(JSON.stringify({ i, pad: 'x'.repeat(i % 50) }));
    await writeFile(path, lines.join('\n') + '\n');
    const src = source({ path });
    const batches = await readAll(src, openOptions(), 300);
    expect(batches.every((b) => b.length <= 300)).toBe(true);
    const got = batches.flat().map((r) => r.json());
    expect(got).toEqual(lines);
    expect(src.progress()).toEqual({ done: expect.any(Number), total: expect.any(Number), unit: 'bytes' });
    expect(src.progress().done).toBe(src.progress().total);
  });

  it('holds a line longer than the read buffer whole', async () => {
    const path = join(dir, 'long.jsonl');
    const long = JSON.stringify({ s: 'y'.repeat(200_000) });
    await writeFile(path, `{"a":1}\n${long}\n{"a":2}\n`);
    const got = (await readAll(source({ path }))).flat().map((r) => r.json());
    expect(got).toEqual(['{"a":1}', long, '{"a":2}']);
  });

  it('resumes exactly after an acknowledged position', async () => {
    const path = join(dir, 'in.jsonl');
    await writeFile(path, '{"a":1}\n{"a":2}\n{"a":3}\n');
    const first = await readAll(source({ path }));
    const second = await readAll(source({ path }), openOptions(undefined, positions(first)[1]));
    expect(values(second)).toEqual([{ a: 3 }]);
    const done = await readAll(source({ path }), openOptions(undefined, positions(first)[2]));
    expect(done.flat()).toHaveLength(0);
  });

  it('resumes a csv file after a position, still naming fields from the header', async () => {
    const path = join(dir, 'in.csv');
    await writeFile(path, 'x,y\n1,2\n3,4\n5,6\n');
    const first = await readAll(source({ path, format: 'csv' }));
    const resumed = await readAll(source({ path, format: 'csv' }), openOptions(undefined, positions(first)[0]));
    expect(values(resumed)).toEqual([
      { x: '3', y: '4' },
      { x: '5', y: '6' },
    ]);
  });

  it('reads a file from the start when it is shorter than the checkpointed offset', async () => {
    const path = join(dir, 'in.jsonl');
    await writeFile(path, '{"a":9}\n');
    const got = await readAll(source({ path }), openOptions(undefined, 1000));
    expect(values(got)).toEqual([{ a: 9 }]);
  });

  it('reports NOT_FOUND for a missing file', async () => {
    await expect(readAll(source({ path: join(dir, 'nope.jsonl') }))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('rejects a checkpoint position that is not a file position', async () => {
    const path = join(dir, 'in.jsonl');
    await writeFile(path, '{}\n');
    await expect(readAll(source({ path }), openOptions(undefined, 'x'))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('file source: globs', () => {
  it('reads matching files in sorted order with ** and ?, positions naming the file', async () => {
    await mkdir(join(dir, 'a', 'deep'), { recursive: true });
    await writeFile(join(dir, 'b1.jsonl'), '{"f":"b1"}\n');
    await writeFile(join(dir, 'a', 'x.jsonl'), '{"f":"ax"}\n');
    await writeFile(join(dir, 'a', 'deep', 'y.jsonl'), '{"f":"ady"}\n');
    await writeFile(join(dir, 'a', 'skip.txt'), 'no\n');
    await writeFile(join(dir, 'a', '.hidden.jsonl'), '{"f":"hidden"}\n');
    const all = await readAll(source({ path: join(dir, '**', '*.jsonl') }));
    expect(values(all)).toEqual([{ f: 'ady' }, { f: 'ax' }, { f: 'b1' }]);
    expect(positions(all)[0]).toEqual({ file: join(dir, 'a', 'deep', 'y.jsonl'), offset: 12 });
    const q = await readAll(source({ path: join(dir, 'b?.jsonl') }));
    expect(values(q)).toEqual([{ f: 'b1' }]);
  });

  it('resumes a glob in the checkpointed file at its offset, skipping earlier files', async () => {
    await writeFile(join(dir, '1.jsonl'), '{"n":1}\n{"n":2}\n');
    await writeFile(join(dir, '2.jsonl'), '{"n":3}\n{"n":4}\n');
    await writeFile(join(dir, '3.jsonl'), '{"n":5}\n');
    const path = join(dir, '*.jsonl');
    const first = await readAll(source({ path }));
    const resumed = await readAll(source({ path }), openOptions(undefined, positions(first)[2]));
    expect(values(resumed)).toEqual([{ n: 4 }, { n: 5 }]);
  });

  it('resumes a glob with a new file that sorts before the checkpointed one, and does not read done files again', async () => {
    await writeFile(join(dir, 'b.jsonl'), '{"n":1}\n');
    await writeFile(join(dir, 'c.jsonl'), '{"n":2}\n{"n":3}\n');
    const path = join(dir, '*.jsonl');
    const reader = source({ path });
    const first = await readAll(reader);
    const saved = reader.checkpointPosition(positions(first)[1]!);
    expect(saved).toEqual({ file: join(dir, 'c.jsonl'), offset: 8, done: [join(dir, 'b.jsonl')] });
    await writeFile(join(dir, 'a.jsonl'), '{"n":0}\n');
    await appendFile(join(dir, 'b.jsonl'), '{"n":"late"}\n');
    const again = source({ path });
    const resumed = await readAll(again, openOptions(undefined, saved));
    expect(values(resumed)).toEqual([{ n: 3 }, { n: 0 }]);
    expect(again.checkpointPosition(positions(resumed)[1]!)).toEqual({
      file: join(dir, 'a.jsonl'),
      offset: 8,
      done: [join(dir, 'b.jsonl'), join(dir, 'c.jsonl')],
    });
  });

  it('resumes from a position without a done list (an older checkpoint) as before: earlier files count as done', async () => {
    await writeFile(join(dir, 'a.jsonl'), '{"n":0}\n');
    await writeFile(join(dir, 'b.jsonl'), '{"n":1}\n{"n":2}\n');
    await writeFile(join(dir, 'c.jsonl'), '{"n":3}\n');
    const resumed = await readAll(source({ path: join(dir, '*.jsonl') }), openOptions(undefined, { file: join(dir, 'b.jsonl'), offset: 8 }));
    expect(values(resumed)).toEqual([{ n: 2 }, { n: 3 }]);
  });

  it('plans a resumed read: the checkpointed file first, then what is not done; vanished files are forgotten', () => {
    expect(planRead(['a', 'b', 'c', 'd'], { file: 'c', offset: 5, done: ['b', 'gone'] })).toEqual({ queue: ['c', 'a', 'd'], offset: 5, done: ['b'] });
    expect(planRead(['a', 'd'], { file: 'c', offset: 5, done: ['b'] })).toEqual({ queue: ['a', 'd'], offset: 0, done: [] });
    expect(planRead(['a', 'b', 'c'], { file: 'b', offset: 3 })).toEqual({ queue: ['b', 'c'], offset: 3, done: ['a'] });
    expect(planRead(['a', 'b'], undefined)).toEqual({ queue: ['a', 'b'], offset: 0, done: [] });
    expect(() => parseFilePosition({ file: 'a', offset: 1, done: [3] })).toThrow(/is not a file position/);
  });

  it('reports NOT_FOUND when a glob matches nothing', async () => {
    await expect(readAll(source({ path: join(dir, '*.jsonl') }))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('file source: follow', () => {
  async function follow(config: Record<string, unknown>) {
    const controller = new AbortController();
    const src = source({ poll_interval: 20, follow: true, ...config });
    await src.open(openOptions(controller.signal));
    const seen: Batch[] = [];
    const done = (async () => {
      for await (const batch of src.read(100)) seen.push(batch);
    })();
    const stop = async () => {
      controller.abort();
      await done;
      await src.close();
    };
    return { seen: () => values(seen), stop };
  }

  it('sees appended lines, holds back an unfinished line, and stops when the signal aborts', async () => {
    const path = join(dir, 'live.jsonl');
    await writeFile(path, '{"n":1}\n');
    const run = await follow({ path });
    try {
      await waitFor(() => run.seen().length === 1, 'first line');
      await appendFile(path, '{"n":2}\n{"n":');
      await waitFor(() => run.seen().length === 2, 'appended line');
      await appendFile(path, '3}\n');
      await waitFor(() => run.seen().length === 3, 'completed line');
      expect(run.seen()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    } finally {
      await run.stop();
    }
  });

  it('waits for a file that does not exist yet', async () => {
    const path = join(dir, 'later.jsonl');
    const run = await follow({ path });
    try {
      await writeFile(path, '{"n":1}\n');
      await waitFor(() => run.seen().length === 1, 'the new file');
      expect(run.seen()).toEqual([{ n: 1 }]);
    } finally {
      await run.stop();
    }
  });

  it('reads a truncated file again from its start', async () => {
    const path = join(dir, 'live.jsonl');
    await writeFile(path, '{"n":1}\n{"n":2}\n');
    const run = await follow({ path });
    try {
      await waitFor(() => run.seen().length === 2, 'initial lines');
      await truncate(path, 0);
      await new Promise((r) => setTimeout(r, 100));
      await appendFile(path, '{"n":3}\n');
      await waitFor(() => run.seen().length === 3, 'line after truncation');
      expect(run.seen()[2]).toEqual({ n: 3 });
    } finally {
      await run.stop();
    }
  });

  it('with a glob, moves on to newer files as they appear', async () => {
    await writeFile(join(dir, 'log-1.jsonl'), '{"n":1}\n');
    const run = await follow({ path: join(dir, 'log-*.jsonl') });
    try {
      await waitFor(() => run.seen().length === 1, 'first file');
      await writeFile(join(dir, 'log-2.jsonl'), '{"n":2}\n');
      await waitFor(() => run.seen().length === 2, 'second file');
      await appendFile(join(dir, 'log-2.jsonl'), '{"n":3}\n');
      await waitFor(() => run.seen().length === 3, 'growth of the second file');
      expect(run.seen()).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    } finally {
      await run.stop();
    }
  });

  it('with a glob, picks up a new file whatever its name sorts as', async () => {
    await writeFile(join(dir, 'log-5.jsonl'), '{"n":5}\n');
    const run = await follow({ path: join(dir, 'log-*.jsonl') });
    try {
      await waitFor(() => run.seen().length === 1, 'first file');
      await writeFile(join(dir, 'log-1.jsonl'), '{"n":1}\n');
      await waitFor(() => run.seen().length === 2, 'the file that sorts first');
      expect(run.seen()).toEqual([{ n: 5 }, { n: 1 }]);
    } finally {
      await run.stop();
    }
  });
});

describe('file source: definition', () => {
  it('applies defaults and rejects unknown fields', () => {
    expect(() => fileSourceDefinition.create({ path: 'x', nope: 1 })).toThrow(/invalid file source config/);
    expect(() => fileSourceDefinition.create({ path: 'x', format: 'xml' })).toThrow(WireError);
  });

  it('check reports follow with json and strict with csv', () => {
    expect(fileSourceDefinition.check!({ path: 'x', format: 'json', follow: true })).toEqual([
      { path: 'follow', message: expect.stringMatching(/not supported/) },
    ]);
    expect(fileSourceDefinition.check!({ path: 'x', format: 'csv', strict: true })[0]!.path).toBe('strict');
    expect(fileSourceDefinition.check!({ path: 'x' })).toEqual([]);
  });
});
