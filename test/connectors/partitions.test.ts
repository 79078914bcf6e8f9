import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { partitionsOf } from '../../src/connectors/partitions.js';
import { generateSourceDefinition, type GenerateSource } from '../../src/connectors/sources/generate.js';
import { fileSourceDefinition } from '../../src/connectors/sources/file.js';
import { openOptions, positions, readAll, tempDir, values } from './helpers.js';

const generate = (config: Record<string, unknown>): GenerateSource => generateSourceDefinition.create(config) as GenerateSource;

describe('generate partitions', () => {
  it('partition k makes exactly the numbers i < count with i % partitions == k, positions i', async () => {
    const batches = await readAll(generate({ count: 23, partitions: 4, partition: 3 }), openOptions(), 2);
    expect(positions(batches)).toEqual([3, 7, 11, 15, 19]);
    expect(values(batches)).toEqual([3, 7, 11, 15, 19].map((i) => ({ i })));
    expect(batches.map((b) => b.length)).toEqual([2, 2, 1]);
  });

  it('the partitions together make every number once', async () => {
    const seen: number[] = [];
    for (let k = 0; k < 5; k++) seen.push(...(positions(await readAll(generate({ count: 101, partitions: 5, partition: k }))) as number[]));
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 101 }, (_, i) => i));
  });

  it('partitions without partition makes every record, as without partitions', async () => {
    expect(positions(await readAll(generate({ count: 7, partitions: 3 })))).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('resumes a partition after its checkpointed number', async () => {
    const got = await readAll(generate({ count: 20, partitions: 3, partition: 1 }), openOptions(undefined, 7));
    expect(positions(got)).toEqual([10, 13, 16, 19]);
    const fresh = await readAll(generate({ count: 5, partitions: 3, partition: 2 }), openOptions(undefined, -1));
    expect(positions(fresh)).toEqual([2]);
  });

  it('refuses a checkpoint of another partition', async () => {
    const src = generate({ count: 20, partitions: 3, partition: 1 });
    await expect(src.open(openOptions(undefined, 6))).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('reports progress within its partition', async () => {
    const src = generate({ count: 10, partitions: 4, partition: 1 });
    expect(src.progress()).toEqual({ done: 0, total: 3, unit: 'records' });
    await readAll(src);
    expect(src.progress()).toEqual({ done: 3, total: 3, unit: 'records' });
  });

  it('a partition past the end of a short count makes nothing', async () => {
    expect(await readAll(generate({ count: 2, partitions: 4, partition: 3 }))).toEqual([]);
  });

  it('check and create refuse partition without partitions or at or above it', () => {
    expect(generateSourceDefinition.check!({ partition: 0 })).toEqual([{ path: 'partition', message: expect.stringContaining('needs partitions') }]);
    expect(generateSourceDefinition.check!({ partitions: 2, partition: 2 })).toEqual([{ path: 'partition', message: expect.stringContaining('below') }]);
    expect(generateSourceDefinition.check!({ partitions: 2, partition: 1 })).toEqual([]);
    expect(() => generate({ partitions: 2, partition: 2 })).toThrow(/partition 2/);
    expect(() => generate({ partition: 0 })).toThrow(/partition 0/);
  });

  it('a partition has its own identity; partitions alone keep the identity of the whole sequence', () => {
    const identity = (config: Record<string, unknown>) => generateSourceDefinition.identity!(config).key;
    expect(identity({ count: 5, partitions: 4 })).toEqual(identity({ count: 5 }));
    expect(identity({ count: 5, partitions: 4, partition: 1 })).not.toEqual(identity({ count: 5, partitions: 4, partition: 2 }));
    expect(identity({ count: 5, partitions: 4, partition: 1 })).not.toEqual(identity({ count: 5, partitions: 8, partition: 1 }));
  });
});

describe('partitionsOf', () => {
  let cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(cleanups.map((c) => c()));
    cleanups = [];
  });

  it('generate with partitions: N gives N tasks, ids 0..N-1, each source config naming its partition', async () => {
    const source = { type: 'generate', config: { count: 10, partitions: 3 } };
    expect(await partitionsOf(source)).toEqual([0, 1, 2].map((k) => ({ id: String(k), source: { type: 'generate', config: { count: 10, partitions: 3, partition: k } } })));
  });

  it('a source that declares no partitions is one task 0 with its source as it is', async () => {
    const source = { type: 'http', config: { address: '127.0.0.1:0' } };
    expect(await partitionsOf(source)).toEqual([{ id: '0', source }]);
    expect(await partitionsOf({ type: 'generate', config: { count: 3 } })).toEqual([{ id: '0', source: { type: 'generate', config: { count: 3 } } }]);
  });

  it('a generate source that names its partition is that one task', async () => {
    const source = { type: 'generate', config: { partitions: 4, partition: 2 } };
    expect(await partitionsOf(source)).toEqual([{ id: '2', source }]);
  });

  it('a file glob gives one task per file, its path the id, in sorted order, the same on every call', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    await mkdir(join(dir, 'sub'));
    for (const name of ['b.jsonl', 'a.jsonl', 'sub/c.jsonl', 'skip.txt']) await writeFile(join(dir, name), '{}\n');
    const source = { type: 'file', config: { path: join(dir, '**', '*.jsonl'), format: 'jsonl' } };
    const tasks = await partitionsOf(source);
    const files = ['a.jsonl', 'b.jsonl', 'sub/c.jsonl'].map((f) => join(dir, f));
    expect(tasks.map((t) => t.id)).toEqual(files);
    expect(tasks.map((t) => t.source)).toEqual(files.map((path) => ({ type: 'file', config: { path, format: 'jsonl' } })));
    expect(await partitionsOf(source)).toEqual(tasks);
  });

  it('each file task reads its own file only', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    await writeFile(join(dir, 'a.jsonl'), '{"n":1}\n{"n":2}\n');
    await writeFile(join(dir, 'b.jsonl'), '{"n":3}\n');
    const tasks = await partitionsOf({ type: 'file', config: { path: join(dir, '*.jsonl') } });
    const read = async (config: Record<string, unknown>) => values(await readAll(fileSourceDefinition.create(config) as never));
    expect(await read(tasks[0]!.source.config as Record<string, unknown>)).toEqual([{ n: 1 }, { n: 2 }]);
    expect(await read(tasks[1]!.source.config as Record<string, unknown>)).toEqual([{ n: 3 }]);
  });

  it('one file, or a glob that follows (it must pick up new files), is one task', async () => {
    const one = { type: 'file', config: { path: '/data/in.jsonl' } };
    expect(await partitionsOf(one)).toEqual([{ id: '0', source: one }]);
    const follow = { type: 'file', config: { path: '/data/*.jsonl', follow: true } };
    expect(await partitionsOf(follow)).toEqual([{ id: '0', source: follow }]);
  });

  it('a glob that matches no file is NOT_FOUND', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    await expect(partitionsOf({ type: 'file', config: { path: join(dir, '*.jsonl') } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses a matched file whose name holds a wildcard (its task would read it as a glob)', async () => {
    const { dir, cleanup } = await tempDir();
    cleanups.push(cleanup);
    await writeFile(join(dir, 'a*.jsonl'), '{}\n');
    await expect(partitionsOf({ type: 'file', config: { path: join(dir, '*.jsonl') } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('refuses an unknown type, a missing type and an invalid config', async () => {
    await expect(partitionsOf({ type: 'nope', config: {} })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(partitionsOf({ config: {} })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(partitionsOf({ type: 'generate', config: [] })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(partitionsOf({ type: 'generate', config: { partitions: 0 } })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
