import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SinkOpenOptions } from '../../src/core/ports.js';
import { WireRecord } from '../../src/core/record.js';
import { FileSink, FileSinkSchema } from '../../src/connectors/sinks/file.js';
import { resolveConfig } from '../../src/connectors/config.js';
import { runPipeline } from '../../src/engine/runner.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import { CountingSource, fakeRegistry, spec, transforms, DLQ } from '../engine/fakes.js';
import { eio, faultyFile, type FaultyFile } from './faulty-file.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await tempDir()));
afterEach(async () => cleanup());

const fileSink = (config: Record<string, unknown>, disk?: FaultyFile): FileSink =>
  new FileSink(resolveConfig('file sink', FileSinkSchema, config), disk?.open, disk?.writeNow);
const opts = (): SinkOpenOptions => ({ pipeline: 'test', component: 'sink', dataDir: dir, signal: new AbortController().signal });
const lines = (from: number, to: number): string => Array.from({ length: to - from }, (_, i) => `{"n":${from + i}}\n`).join('');

/** Runs records 0..count-1 into `sink` (and `deadLetter`), checkpointing every 300 records. */
function run(store: MemoryCheckpointStore, sink: FileSink, count: number, extra: { deadLetter?: FileSink; reject?: boolean } = {}) {
  const source = new CountingSource({ count });
  return runPipeline({
    spec: spec({
      ...(extra.deadLetter === undefined ? {} : { deadLetter: DLQ }),
      transforms: extra.reject === true ? transforms(['reject-digit', { digit: 7 }]) : [],
    }),
    registry: fakeRegistry({ source, sink, deadLetter: extra.deadLetter }),
    checkpointStore: store,
    dataDir: dir,
    checkpoint: { everyRecords: 300 },
  }).done;
}

describe('file sink: a failed fdatasync is not retried', () => {
  it('fails the run at once, keeps the last good checkpoint, and a rerun completes the output exactly', async () => {
    const path = join(dir, 'out.jsonl');
    const store = new MemoryCheckpointStore();
    // The second fdatasync fails; were it retried, Linux could report the third as a success for lost pages.
    const disk = faultyFile({ datasync: (call) => (call === 2 ? eio('fdatasync') : undefined) });
    const summary = await run(store, fileSink({ path }, disk), 1_000);
    expect(summary.state).toBe('failed');
    expect(summary.error).toMatchObject({ code: 'UNAVAILABLE', details: expect.objectContaining({ attempts: 1 }) as unknown });
    expect(summary.error?.message).toMatch(/fdatasync of .*out\.jsonl failed.*rerun resumes from the last checkpoint/);
    expect(disk.calls.datasync).toBe(2);
    // The first checkpoint stands: what it covers was made durable by the first fdatasync.
    const saved = await store.load('test');
    const position = saved?.position as number;
    expect(position).toBeLessThan(999);
    expect(saved?.sink).toBe(lines(0, position + 1).length);

    const rerun = await run(store, fileSink({ path }), 1_000);
    expect(rerun).toMatchObject({ state: 'stopped', recordsIn: 999 - position, recordsOut: 999 - position });
    expect(await readFile(path, 'utf8')).toBe(lines(0, 1_000));
  });

  it('fails the run when the dead-letter file cannot be made durable', async () => {
    const store = new MemoryCheckpointStore();
    const disk = faultyFile({ datasync: () => eio('fdatasync') });
    const deadLetter = fileSink({ path: join(dir, 'dlq.jsonl') }, disk);
    const summary = await run(store, fileSink({ path: join(dir, 'out.jsonl') }), 1_000, { deadLetter, reject: true });
    expect(summary.state).toBe('failed');
    expect(summary.error?.message).toMatch(/dead-letter flush failed after 1 attempt\(s\): file sink: fdatasync of .*dlq\.jsonl failed/);
    expect(disk.calls.datasync).toBe(1);
    expect((await store.load('test'))?.position).toBeNull();
  });

  it('refuses every later write and flush once an fdatasync failed', async () => {
    const disk = faultyFile({ datasync: (call) => (call === 1 ? eio('fdatasync') : undefined) });
    const sink = fileSink({ path: join(dir, 'out.jsonl') }, disk);
    await sink.open(opts());
    try {
      await sink.write([WireRecord.fromRaw('{"n":0}')]);
      await expect(sink.flush()).rejects.toMatchObject({ code: 'UNAVAILABLE', details: { retryable: false } });
      await expect(sink.flush()).rejects.toThrow(/fdatasync .* failed/);
      await expect(sink.write([WireRecord.fromRaw('{"n":1}')])).rejects.toThrow(/fdatasync .* failed/);
      expect(disk.calls.datasync).toBe(1);
      expect(sink.checkpoint()).toBe(0);
    } finally {
      await sink.close();
    }
  });
});

describe('file sink: a failed truncate after a partial write', () => {
  it('fails the run instead of retrying the write after the partial bytes', async () => {
    const path = join(dir, 'out.jsonl');
    const disk = faultyFile({
      write: (call) => (call === 2 ? { error: eio('write'), partial: 5 } : undefined),
      truncate: () => eio('ftruncate'),
    });
    const summary = await run(new MemoryCheckpointStore(), fileSink({ path }, disk), 1_000);
    expect(summary.state).toBe('failed');
    expect(summary.error).toMatchObject({ code: 'UNAVAILABLE' });
    expect(summary.error?.message).toMatch(/could not cut .*out\.jsonl back to \d+ bytes after a failed write/);
    expect(summary).toMatchObject({ recordsOut: 100, deadLettered: 0, dropped: 0 });
    expect(disk.calls.write).toBe(2);
  });

  it('retries the write when the truncate succeeded, leaving no partial batch behind', async () => {
    const path = join(dir, 'out.jsonl');
    const disk = faultyFile({ write: (call) => (call === 2 ? { error: eio('write'), partial: 5 } : undefined) });
    const summary = await run(new MemoryCheckpointStore(), fileSink({ path }, disk), 1_000);
    expect(summary).toMatchObject({ state: 'stopped', recordsOut: 1_000 });
    expect(await readFile(path, 'utf8')).toBe(lines(0, 1_000));
  });
});

describe('file sink: csv header', () => {
  it('writes the header when the first write failed and was retried', async () => {
    const path = join(dir, 'out.csv');
    const disk = faultyFile({ write: (call) => (call === 1 ? { error: eio('write') } : undefined) });
    const sink = fileSink({ path, format: 'csv' }, disk);
    await sink.open(opts());
    try {
      const batch = [WireRecord.fromValue({ a: 1, b: 'x' })];
      await expect(sink.write(batch)).rejects.toThrow(/EIO/);
      await sink.write(batch);
      await sink.write([WireRecord.fromValue({ a: 2, b: 'y' })]);
      await sink.flush();
    } finally {
      await sink.close();
    }
    expect(await readFile(path, 'utf8')).toBe('a,b\n1,x\n2,y\n');
  });
});
