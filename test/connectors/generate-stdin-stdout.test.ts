import { PassThrough, Writable } from 'node:stream';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { WireRecord } from '../../src/core/record.js';
import { DropSink, dropSinkDefinition } from '../../src/connectors/sinks/drop.js';
import { StdoutSink } from '../../src/connectors/sinks/stdout.js';
import { generateSourceDefinition, type GenerateSource } from '../../src/connectors/sources/generate.js';
import { StdinSource } from '../../src/connectors/sources/stdin.js';
import { openOptions, positions, readAll, values } from './helpers.js';

const generate = (config: Record<string, unknown>): GenerateSource => generateSourceDefinition.create(config) as GenerateSource;

describe('generate source', () => {
  it('makes count records from expressions over the sequence number, in batches of at most max', async () => {
    const src = generate({ count: 25, record: { id: 'i', user: "concat('user-', i % 10)", big: 'i > 20' } });
    const batches = await readAll(src, openOptions(), 10);
    expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
    const got = values(batches) as Array<{ id: number; user: string; big: boolean }>;
    expect(got[0]).toEqual({ id: 0, user: 'user-0', big: false });
    expect(got[24]).toEqual({ id: 24, user: 'user-4', big: true });
    expect(positions(batches)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(src.progress()).toEqual({ done: 25, total: 25, unit: 'records' });
  });

  it('defaults to records holding their sequence number', async () => {
    expect(values(await readAll(generate({ count: 2 })))).toEqual([{ i: 0 }, { i: 1 }]);
  });

  it('resumes after a checkpointed sequence number', async () => {
    const got = await readAll(generate({ count: 5 }), openOptions(undefined, 2));
    expect(values(got)).toEqual([{ i: 3 }, { i: 4 }]);
  });

  it('runs unbounded until the signal aborts', async () => {
    const controller = new AbortController();
    const src = generate({});
    await src.open(openOptions(controller.signal));
    let seen = 0;
    for await (const batch of src.read(100)) {
      seen += batch.length;
      if (seen >= 1000) controller.abort();
    }
    await src.close();
    expect(seen).toBe(1000);
  });

  it('paces output to the rate in small batches', async () => {
    const src = generate({ count: 30, rate: 200 });
    const batches = await readAll(src, openOptions(), 1000);
    expect(batches.every((b) => b.length <= 10)).toBe(true);
    expect(batches.flat()).toHaveLength(30);
  });

  it('paces a high rate in batches of about a millisecond of records, not in bursts', async () => {
    const src = generate({ count: 3000, rate: 100_000 });
    const batches = await readAll(src, openOptions(), 1000);
    expect(batches.every((b) => b.length <= 100)).toBe(true);
    expect(batches.flat()).toHaveLength(3000);
  });

  it('check reports a bad expression with its field and column', () => {
    const problems = generateSourceDefinition.check!({ record: { ok: 'i', bad: 'i +' } });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ path: 'record.bad', column: expect.any(Number) });
    expect(() => generate({ record: { bad: 'i +' } })).toThrow();
  });
});

describe('stdin source', () => {
  it('reads jsonl from a stream, chunk boundaries anywhere, until it ends', async () => {
    const input = new PassThrough();
    const src = new StdinSource({ format: 'jsonl' }, input);
    const done = readAll(src, openOptions(), 2);
    input.write('{"a":1}\n{"a"');
    input.write(':2}\n\n{"a":3}');
    input.end();
    const batches = await done;
    expect(values(batches)).toEqual([{ a: 1 }, { a: 2 }, { a: 3 }]);
    expect(batches.every((b) => b.length <= 2)).toBe(true);
  });

  it('reads lines as strings and stops when the signal aborts', async () => {
    const input = new PassThrough();
    const controller = new AbortController();
    const src = new StdinSource({ format: 'lines' }, input);
    await src.open(openOptions(controller.signal));
    const seen: unknown[] = [];
    input.write('one\ntwo\n');
    for await (const batch of src.read(10)) {
      seen.push(...batch.map((r) => r.value));
      controller.abort();
    }
    await src.close();
    expect(seen).toEqual(['one', 'two']);
  });

  it('hands out blocks of whole lines in memory of their own, at byte positions, the last line even without a newline', async () => {
    const input = new PassThrough();
    const src = new StdinSource({ format: 'jsonl' }, input);
    await src.open(openOptions());
    const text = '{"a":1}\n{"é":"😀"}\n\n{"a":3}';
    const bytes = Buffer.from(text);
    // Split inside a line and inside a multi-byte character.
    for (const [from, to] of [[0, 3], [3, 12], [12, 20], [20, bytes.length]] as const) input.write(bytes.subarray(from, to));
    input.end();
    const blocks = [];
    for await (const block of src.blocks()) blocks.push(block);
    expect(Buffer.concat(blocks.map((b) => b.data)).toString()).toBe(text + '\n');
    for (const block of blocks) {
      expect(block.data[block.data.length - 1]).toBe(10);
      expect(block.data.byteOffset).toBe(0);
      expect(block.data.buffer.byteLength).toBe(block.data.length);
      expect(block.format).toBe('jsonl');
    }
    // Each position is the input's byte offset just after the block's last line.
    let end = 0;
    for (const block of blocks) {
      end += block.data.length;
      expect(block.position).toBe(Math.min(end, bytes.length));
    }
  });

  it('stops its blocks when the signal aborts, without making a record of a cut-short line', async () => {
    const input = new PassThrough();
    const controller = new AbortController();
    const src = new StdinSource({ format: 'lines' }, input);
    await src.open(openOptions(controller.signal));
    input.write('one\ntw');
    const seen: string[] = [];
    for await (const block of src.blocks()) {
      seen.push(Buffer.from(block.data).toString());
      controller.abort();
    }
    expect(seen).toEqual(['one\n']);
  });

  it('keeps no chunk it has handed on: memory stays flat however much comes through', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const before = process.memoryUsage().arrayBuffers;
    const input = new PassThrough();
    const src = new StdinSource({ format: 'lines' }, input);
    await src.open(openOptions());
    const chunk = Buffer.alloc(1024 * 1024, 'x\n');
    let bytes = 0;
    let written = 0;
    const writeMore = (): void => {
      while (written < 160 && input.write(Buffer.from(chunk))) written++;
      if (written >= 160) input.end();
    };
    input.on('drain', () => {
      written++;
      writeMore();
    });
    writeMore();
    for await (const block of src.blocks()) bytes += block.data.length;
    gc();
    expect(bytes).toBe(160 * chunk.length);
    // Before, each read raced a promise that stayed pending, whose reactions kept every chunk alive (~320 MB here).
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('skips a line past the limit without holding it, and hands it on as a line too long once it ends', async () => {
    const input = new PassThrough();
    const src = new StdinSource({ format: 'lines' }, input);
    await src.open(openOptions());
    const iterator = src.blocks()[Symbol.asyncIterator]();
    const next = iterator.next();
    const chunk = Buffer.alloc(8 * 1024 * 1024, 120);
    for (let i = 0; i < 9; i++) input.write(chunk);
    input.end('\nafter\n');
    const first = await next;
    expect(first.value).toMatchObject({ position: 9 * chunk.length + 1 });
    expect(first.value?.data.length).toBe(0);
    expect(first.value?.longLine?.error).toMatchObject({ code: 'INVALID_INPUT', details: { bytes: 9 * chunk.length } });
    expect(first.value?.longLine?.bytes.length).toBe(1024);
    const second = await iterator.next();
    expect(Buffer.from(second.value!.data).toString()).toBe('after\n');
  });
});

describe('stdout and drop sinks', () => {
  function capture(): { stream: Writable; text: () => string } {
    let text = '';
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        text += chunk.toString();
        cb();
      },
    });
    return { stream, text: () => text };
  }

  it('stdout writes jsonl, keeping unchanged raw text', async () => {
    const out = capture();
    const sink = new StdoutSink({ format: 'jsonl' }, out.stream);
    await sink.open();
    await sink.write([WireRecord.fromRaw('{"a": 1}'), WireRecord.fromValue('s')]);
    await sink.flush();
    await sink.close();
    expect(out.text()).toBe('{"a": 1}\n"s"\n');
  });

  it('stdout writes lines as text', async () => {
    const out = capture();
    const sink = new StdoutSink({ format: 'lines' }, out.stream);
    await sink.write([WireRecord.fromValue('s'), WireRecord.fromValue({ b: 2 })]);
    expect(out.text()).toBe('s\n{"b":2}\n');
  });

  it('stdout takes rendered lines in order, done once the stream has taken the last of them', async () => {
    const out = capture();
    const sink = new StdoutSink({ format: 'lines' }, out.stream);
    expect(sink.lineFormat()).toBe('lines');
    await sink.writeLines([Buffer.from('a\nb\n'), Buffer.from('c\n')], 3);
    await sink.writeLines([], 0);
    expect(out.text()).toBe('a\nb\nc\n');
  });

  it('stdout reports a failed write as UNAVAILABLE', async () => {
    const broken = new Writable({ write: (_chunk, _enc, cb) => cb(new Error('EPIPE')) });
    broken.on('error', () => undefined);
    const sink = new StdoutSink({ format: 'jsonl' }, broken);
    await expect(sink.writeLines([Buffer.from('{}\n'), Buffer.from('{}\n')], 2)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(new StdoutSink({ format: 'jsonl' }, broken).write([WireRecord.fromValue(1)])).rejects.toMatchObject({ code: 'UNAVAILABLE' });
  });

  it('drop counts and discards', async () => {
    const sink = dropSinkDefinition.create({}) as DropSink;
    await sink.write([WireRecord.fromValue(1), WireRecord.fromValue(2)]);
    expect(sink.dropped).toBe(2);
    expect(sink.lineFormat()).toBe('lines');
    await sink.writeLines([Buffer.from('a\nb\nc\n')], 3);
    expect(sink.dropped).toBe(5);
    expect(() => dropSinkDefinition.create({ x: 1 })).toThrow(/invalid drop sink config/);
  });
});
