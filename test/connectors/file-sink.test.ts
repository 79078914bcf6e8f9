import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SinkOpenOptions } from '../../src/core/ports.js';
import { WireRecord, type JsonValue } from '../../src/core/record.js';
import { FileSink, fileSinkDefinition } from '../../src/connectors/sinks/file.js';
import { fileSourceDefinition } from '../../src/connectors/sources/file.js';
import { readAll, tempDir, values } from './helpers.js';

const sink = (config: Record<string, unknown>): FileSink => fileSinkDefinition.create(config) as FileSink;
const opts = (committed?: JsonValue): SinkOpenOptions => ({
  pipeline: 'test',
  component: 'sink',
  dataDir: dir,
  signal: new AbortController().signal,
  committed,
});

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

async function writeAll(s: FileSink, batches: WireRecord[][], committed?: JsonValue): Promise<JsonValue | undefined> {
  await s.open(opts(committed));
  try {
    for (const b of batches) await s.write(b);
    await s.flush();
    return s.checkpoint();
  } finally {
    await s.close();
  }
}

describe('file sink', () => {
  it('writes unchanged jsonl records byte for byte and changed ones as JSON, creating directories', async () => {
    const path = join(dir, 'nested', 'deeper', 'out.jsonl');
    const changed = WireRecord.fromRaw('{"a": 2}');
    changed.value = { a: 20 };
    const length = await writeAll(sink({ path }), [[WireRecord.fromRaw('{"a":  1}'), changed], [WireRecord.fromValue('s')]]);
    const text = await readFile(path, 'utf8');
    expect(text).toBe('{"a":  1}\n{"a":20}\n"s"\n');
    expect(length).toBe(Buffer.byteLength(text));
  });

  it('writes records read as bytes (an http body) as those bytes, whatever memory they sit in', async () => {
    const path = join(dir, 'out.jsonl');
    const body = Buffer.from('{"a":1}\n{"b":"é"}\r\n{"c":3}\n');
    const other = Buffer.from('xx{"d":4}');
    const bytes = [body.subarray(0, 7), body.subarray(8, 18), body.subarray(20, 27), other.subarray(2)];
    const records = bytes.map((b) => WireRecord.fromRaw(b));
    const length = await writeAll(sink({ path }), [records, [WireRecord.fromRaw(body.subarray(0, 7))]]);
    const text = await readFile(path, 'utf8');
    expect(text).toBe('{"a":1}\n{"b":"é"}\n{"c":3}\n{"d":4}\n{"a":1}\n');
    expect(length).toBe(Buffer.byteLength(text));
  });

  it('renders a batch of records read as bytes once one of them changed', async () => {
    const path = join(dir, 'out.jsonl');
    const body = Buffer.from('{"a":1}\n{"a":2}\n');
    const changed = WireRecord.fromRaw(body.subarray(8, 15));
    changed.value = { a: 20 };
    await writeAll(sink({ path }), [[WireRecord.fromRaw(body.subarray(0, 7)), changed]]);
    expect(await readFile(path, 'utf8')).toBe('{"a":1}\n{"a":20}\n');
  });

  it('writes lines as text', async () => {
    const path = join(dir, 'out.txt');
    await writeAll(sink({ path, format: 'lines' }), [[WireRecord.fromText('plain'), WireRecord.fromValue({ b: 1 })]]);
    expect(await readFile(path, 'utf8')).toBe('plain\n{"b":1}\n');
  });

  it('writes csv with one header, quoting where needed, and reads back the same values', async () => {
    const path = join(dir, 'out.csv');
    const rows = [
      { id: 1, name: 'Smith, J', note: 'said "hi"' },
      { id: 2, name: 'multi\nline', note: null },
    ];
    await writeAll(sink({ path, format: 'csv' }), [[WireRecord.fromValue(rows[0])], [WireRecord.fromValue(rows[1])]]);
    expect(await readFile(path, 'utf8')).toBe('id,name,note\n1,"Smith, J","said ""hi"""\n2,"multi\nline",\n');
    const back = await readAll(fileSourceDefinition.create({ path, format: 'csv' }) as never);
    expect(values(back)).toEqual([
      { id: '1', name: 'Smith, J', note: 'said "hi"' },
      { id: '2', name: 'multi\nline', note: '' },
    ]);
  });

  it('uses configured csv columns in their order', async () => {
    const path = join(dir, 'out.csv');
    await writeAll(sink({ path, format: 'csv', columns: ['b', 'a'] }), [[WireRecord.fromValue({ a: 1, b: { x: 1 }, c: 3 })]]);
    expect(await readFile(path, 'utf8')).toBe('b,a\n"{""x"":1}",1\n');
  });

  it('starts a fresh run (no checkpoint) with an empty file unless append is set', async () => {
    const path = join(dir, 'out.jsonl');
    await writeFile(path, 'old\n');
    await writeAll(sink({ path }), [[WireRecord.fromRaw('{"n":1}')]]);
    expect(await readFile(path, 'utf8')).toBe('{"n":1}\n');
    await writeAll(sink({ path, append: true }), [[WireRecord.fromRaw('{"n":2}')]]);
    expect(await readFile(path, 'utf8')).toBe('{"n":1}\n{"n":2}\n');
  });

  it('exactly-once: truncates to the committed length before writing replayed records', async () => {
    const path = join(dir, 'out.jsonl');
    const s = sink({ path });
    await s.open(opts());
    await s.write([WireRecord.fromRaw('{"n":1}')]);
    await s.flush();
    const committed = s.checkpoint();
    // Written but not checkpointed: a crash here means the source replays record 2.
    await s.write([WireRecord.fromRaw('{"n":2}')]);
    await s.close();
    expect(committed).toBe(8);
    await writeAll(sink({ path }), [[WireRecord.fromRaw('{"n":2}'), WireRecord.fromRaw('{"n":3}')]], committed);
    expect(await readFile(path, 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
  });

  it('checkpoint reports only what the last flush made durable', async () => {
    const s = sink({ path: join(dir, 'out.jsonl') });
    await s.open(opts());
    try {
      await s.write([WireRecord.fromRaw('{}')]);
      expect(s.checkpoint()).toBe(0);
      await s.flush();
      expect(s.checkpoint()).toBe(3);
    } finally {
      await s.close();
    }
  });

  it('a flush behind the writes covers and describes what was written before it, not the writes made while it syncs', async () => {
    const s = sink({ path: join(dir, 'out.jsonl') });
    await s.open(opts());
    try {
      await s.write([WireRecord.fromRaw('{"n":1}')]);
      const first = s.flushBehind!();
      expect(first.state).toBe(8);
      await s.write([WireRecord.fromRaw('{"n":2}')]);
      await first.durable;
      expect(s.checkpoint()).toBe(8);
      const second = s.flushBehind!();
      expect(second.state).toBe(16);
      await second.durable;
      expect(s.checkpoint()).toBe(16);
      expect(await readFile(join(dir, 'out.jsonl'), 'utf8')).toBe('{"n":1}\n{"n":2}\n');
    } finally {
      await s.close();
    }
  });

  it('keeps the existing csv header and its column order when resuming', async () => {
    const path = join(dir, 'out.csv');
    const committed = await writeAll(sink({ path, format: 'csv' }), [[WireRecord.fromValue({ a: 1, b: 2 })]]);
    await writeAll(sink({ path, format: 'csv' }), [[WireRecord.fromValue({ b: 4, a: 3 })]], committed);
    expect(await readFile(path, 'utf8')).toBe('a,b\n1,2\n3,4\n');
  });

  it('refuses a file shorter than its checkpoint with CONFLICT', async () => {
    const path = join(dir, 'out.jsonl');
    await writeFile(path, 'x\n');
    await expect(sink({ path }).open(opts(100))).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('refuses checkpoint state that is not a length', async () => {
    await expect(sink({ path: join(dir, 'o') }).open(opts('x'))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});

describe('file source → file sink, exactly-once across a crash', () => {
  it('after a crash between checkpoints, resuming both sides leaves every record once, in order', async () => {
    const input = join(dir, 'in.jsonl');
    const output = join(dir, 'out.jsonl');
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ i }));
    await writeFile(input, lines.join('\n') + '\n');

    // First run: checkpoint after 2 batches of 10, then write a third batch and "crash" before flushing it.
    const src1 = fileSourceDefinition.create({ path: input });
    const sink1 = sink({ path: output });
    await src1.open({ pipeline: 'p', component: 'source', dataDir: dir, signal: new AbortController().signal });
    await sink1.open(opts());
    let checkpoint: { position: JsonValue; sink: JsonValue } | undefined;
    let n = 0;
    for await (const batch of src1.read(10)) {
      await sink1.write(batch);
      if (++n <= 2) {
        await sink1.flush();
        checkpoint = { position: batch[batch.length - 1]!.position as JsonValue, sink: sink1.checkpoint() };
      }
      if (n === 3) break;
    }
    await sink1.close();
    await src1.close();

    // Second run resumes from the checkpoint: the sink truncates, the source replays from the position.
    const src2 = fileSourceDefinition.create({ path: input });
    const sink2 = sink({ path: output });
    await src2.open({ pipeline: 'p', component: 'source', dataDir: dir, signal: new AbortController().signal, from: checkpoint!.position });
    await sink2.open(opts(checkpoint!.sink));
    for await (const batch of src2.read(10)) await sink2.write(batch);
    await sink2.flush();
    await sink2.close();
    await src2.close();
    expect(await readFile(output, 'utf8')).toBe(lines.join('\n') + '\n');
  });
});
