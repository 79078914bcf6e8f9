import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRegistry } from '../../src/connectors/registry.js';
import type { ComponentDefinition, Sink } from '../../src/core/ports.js';
import type { PipelineSpec } from '../../src/core/pipeline.js';
import type { Batch } from '../../src/core/record.js';
import { WireError } from '../../src/core/errors.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import type { RunOptions } from '../../src/engine/options.js';
import { runPipeline } from '../../src/engine/runner.js';
import { createLogger } from '../../src/observability/logger.js';
import { spec, transforms } from './fakes.js';

const transformsModule = new URL('../../src/transforms/runtime.ts', import.meta.url);

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wire-blocks-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

/** A line sink that counts how it was written to and can fail every write. */
class LineSink implements Sink {
  lines = '';
  lineWrites = 0;
  recordWrites = 0;
  /** `gate`: the first write waits for it. */
  constructor(
    private readonly failing = false,
    private gate?: Promise<void>,
  ) {}
  async open(): Promise<void> {}
  lineFormat(): 'jsonl' {
    return 'jsonl';
  }
  async writeLines(chunks: readonly Uint8Array[]): Promise<void> {
    await this.gate;
    this.gate = undefined;
    this.lineWrites++;
    if (this.failing) throw new WireError('UNAVAILABLE', 'disk on fire');
    for (const data of chunks) this.lines += Buffer.from(data).toString();
  }
  async write(batch: Batch): Promise<void> {
    this.recordWrites++;
    if (this.failing) throw new WireError('UNAVAILABLE', 'disk on fire');
    for (const r of batch) this.lines += r.json() + '\n';
  }
  async flush(): Promise<void> {}
  async close(): Promise<void> {}
}

function registryWith(sink: Sink) {
  const base = createRegistry();
  const extra: ComponentDefinition = { kind: 'sink', type: 'lines', description: '', schema: {}, create: () => sink };
  return { get: (kind: 'source' | 'sink' | 'transform', type: string) => (kind === 'sink' && type === 'lines' ? extra : base.get(kind, type)), list: base.list };
}

async function writeInput(count: number): Promise<string> {
  const path = join(dir, 'in.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 997 === 5) lines.push('{not json');
    else if (i % 1009 === 7) lines.push('');
    else lines.push(JSON.stringify({ n: i, user: `u${i % 5}`, pad: 'p'.repeat(i % 40) }));
  }
  await writeFile(path, lines.join('\r\n') + '\n');
  return path;
}

const chain = transforms(['filter', { expr: 'n % 3 != 0' }], ['map', { set: { user: 'upper(user)', half: 'n / 2' } }]);

type RunWith = Pick<RunOptions, 'recordPath' | 'autoWorkers' | 'transformsModule'>;

async function run(name: string, input: string, overrides: Partial<PipelineSpec>, options: RunWith = {}) {
  const out = join(dir, `${name}.jsonl`);
  const dead = join(dir, `${name}.dead.jsonl`);
  const s = spec({
    name,
    source: { type: 'file', config: { path: input } },
    sink: { type: 'file', config: { path: out } },
    deadLetter: { type: 'file', config: { path: dead } },
    ...overrides,
  });
  const summary = await runPipeline({ spec: s, registry: createRegistry(), checkpointStore: new MemoryCheckpointStore(), dataDir: dir, transformsModule, ...options }).done;
  const letters = (await readFile(dead, 'utf8'))
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      // The time differs from run to run, and the pipeline is the run's name (each path's run has its own).
      const { time: _time, pipeline, ...rest } = JSON.parse(l) as { time: string; pipeline: string };
      if (pipeline !== name) throw new Error(`dead letter of pipeline ${pipeline} in ${name}'s file`);
      return rest;
    });
  const { elapsedMs: _e, rate: _r, pipeline: _p, workers, ...counts } = summary;
  return { counts, workers, output: await readFile(out, 'utf8'), letters };
}

describe('the line-block path', () => {
  it('writes the same output, dead letters and counts as the record path, inline and on workers', async () => {
    const input = await writeInput(30_000);
    const records = await run('records', input, { transforms: chain }, { recordPath: true });
    const blocks = await run('blocks', input, { transforms: chain });
    const workers = await run('workers', input, { transforms: chain, workers: 2 });
    expect(records.counts).toMatchObject({ state: 'stopped', recordsIn: 29_970, deadLettered: 31 });
    expect(records.output.split('\n')[0]).toBe('{"n":1,"user":"U1","pad":"p","half":0.5}');
    for (const other of [blocks, workers]) {
      expect(other.output).toBe(records.output);
      expect(other.letters).toEqual(records.letters);
      expect(other.counts).toEqual(records.counts);
    }
    expect(blocks.letters[0]).toMatchObject({ stage: 'source', code: 'INVALID_INPUT', record: '{not json' });
    expect([records.workers, blocks.workers, workers.workers]).toEqual([0, 0, 2]);
  });

  /**
   * Runs `workers: auto` into a line sink that holds its first write until the workers are up: the main thread
   * takes blocks until then, the in-flight window fills, and the blocks after it go to the workers.
   */
  async function runAutoGated(name: string, input: string, autoWorkers: NonNullable<RunOptions['autoWorkers']>) {
    let started: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (started = resolve));
    const logged: string[] = [];
    const logger = createLogger({
      destination: {
        write: (line: string) => {
          logged.push(line);
          if (line.includes('started worker threads')) started();
        },
      },
    });
    const sink = new LineSink(false, ready);
    const s = spec({
      source: { type: 'file', config: { path: input } },
      sink: { type: 'lines', config: {} },
      deadLetter: { type: 'file', config: { path: join(dir, `${name}.dead.jsonl`) } },
      transforms: chain,
      workers: 'auto',
    });
    const summary = await runPipeline({ spec: s, registry: registryWith(sink), checkpointStore: new MemoryCheckpointStore(), dataDir: dir, transformsModule, logger, autoWorkers }).done;
    const { elapsedMs: _e, rate: _r, pipeline: _p, workers, ...counts } = summary;
    return { workers, counts, output: sink.lines, logged };
  }

  it('with workers: auto, moves a stateless chain to one worker per core on a large input when the trial finds them faster', async () => {
    const input = await writeInput(60_000);
    const inline = await run('inline', input, { transforms: chain, workers: 0 });
    const trial = { warmup: 0, main: 1, workerWarmup: 0, workers: 1 };
    const auto = await runAutoGated('auto', input, { cores: 3, minBytes: 64 * 1024, trial, judge: () => true });
    expect(auto.workers).toBe(3);
    expect(auto.output).toBe(inline.output);
    expect(auto.counts).toEqual(inline.counts);
  });

  it('with workers: auto, goes back to the main thread when the trial finds it faster, with the same output', async () => {
    const input = await writeInput(60_000);
    const inline = await run('inline', input, { transforms: chain, workers: 0 });
    const rates: number[] = [];
    const judge = (mainRate: number, workerRate: number): boolean => {
      rates.push(mainRate, workerRate);
      return false;
    };
    const trial = { warmup: 1, main: 2, workerWarmup: 1, workers: 2 };
    const slow = await runAutoGated('slow', input, { cores: 2, minBytes: 0, trial, judge });
    expect(rates).toHaveLength(2);
    expect(rates.every((r) => r > 0 && Number.isFinite(r))).toBe(true);
    expect(slow.logged.some((l) => l.includes('keeps the main thread'))).toBe(true);
    expect(slow.workers).toBe(0);
    expect(slow.output).toBe(inline.output);
    expect(slow.counts).toEqual(inline.counts);
  });

  it('with workers: auto, goes on on the main thread when the workers cannot start', async () => {
    const input = await writeInput(30_000);
    const inline = await run('inline', input, { transforms: chain, workers: 0 });
    const noWorkers = await run('no-workers', input, { transforms: chain, workers: 'auto' }, {
      transformsModule: pathToFileURL(join(dir, 'no-such-module.js')),
      autoWorkers: { cores: 2, minBytes: 0 },
    });
    expect(noWorkers.counts).toMatchObject({ state: 'stopped', cause: 'end' });
    expect(noWorkers.workers).toBe(0);
    expect(noWorkers.counts).toEqual(inline.counts);
    expect(noWorkers.output).toBe(inline.output);
    expect(noWorkers.letters).toEqual(inline.letters);
  });

  it('with workers: auto, keeps the main thread for a small input, one core, the record path or no transforms', async () => {
    const input = await writeInput(30_000);
    const auto = { transforms: chain, workers: 'auto' } as const;
    expect((await run('small', input, auto, { autoWorkers: { cores: 3, minBytes: 64 * 1024 * 1024 } })).workers).toBe(0);
    expect((await run('one-core', input, auto, { autoWorkers: { cores: 1, minBytes: 0 } })).workers).toBe(0);
    expect((await run('records', input, auto, { recordPath: true, autoWorkers: { cores: 3, minBytes: 0 } })).workers).toBe(0);
    expect((await run('none', input, { workers: 'auto' }, { autoWorkers: { cores: 3, minBytes: 0 } })).workers).toBe(0);
    // workers: 2 without transforms checks the lines (JSON) of blocks on workers: the same output as the main thread's.
    const checked = await run('checked', input, { workers: 2 });
    expect(checked.workers).toBe(2);
    expect(checked.output).toBe((await run('inline', input, { workers: 0 })).output);
    expect(checked.letters).toEqual((await run('inline-again', input, { workers: 0 })).letters);
  });

  it('with workers: auto, keeps a js transform (which may keep state) on the main thread', async () => {
    const input = await writeInput(3_000);
    const module = join(dir, 'count.mjs');
    await writeFile(module, 'let seen = 0;\nexport default (value) => ({ ...value, seen: ++seen });\n');
    const result = await run('js', input, { transforms: transforms(['js', { module }]), workers: 'auto' }, { autoWorkers: { cores: 4, minBytes: 0 } });
    expect(result.workers).toBe(0);
    const last = JSON.parse(result.output.trim().split('\n').at(-1)!) as { seen: number };
    expect(last.seen).toBe(result.counts.recordsOut);
  });

  it('passes valid lines through as read, without blank lines or CRs, when nothing transforms them', async () => {
    const input = await writeInput(5_000);
    const records = await run('records', input, {}, { recordPath: true });
    const blocks = await run('blocks', input, {});
    expect(blocks.output).toBe(records.output);
    expect(blocks.counts).toEqual(records.counts);
    expect(blocks.output).not.toContain('\r');
    expect(blocks.counts).toMatchObject({ recordsIn: 4_995, recordsOut: 4_989, deadLettered: 6 });
    expect(blocks.letters).toEqual(records.letters);
  });

  it('reuses read buffers only once nothing reads them: a multi-megabyte copy comes out byte for byte, inline and on workers', async () => {
    const input = join(dir, 'big.jsonl');
    const lines = Array.from({ length: 60_000 }, (_, i) => JSON.stringify({ i, pad: 'q'.repeat(i % 120) }));
    const text = lines.join('\n') + '\n';
    await writeFile(input, text);
    expect(text.length).toBeGreaterThan(16 * 256 * 1024); // more blocks than the source keeps spare buffers
    const copy = await run('copy', input, {});
    expect(copy.output).toBe(text);
    const mapped = await run('mapped', input, { transforms: transforms(['map', { set: { j: 'i + 1' } }]) });
    expect(mapped.output.split('\n')[59_999]).toBe(JSON.stringify({ i: 59_999, pad: 'q'.repeat(59_999 % 120), j: 60_000 }));
    expect(mapped.counts).toMatchObject({ recordsIn: 60_000, recordsOut: 60_000 });
    // Blocks sent to workers come back with their results and are read into again.
    const onWorkers = await run('mapped-workers', input, { transforms: transforms(['map', { set: { j: 'i + 1' } }]), workers: 2 });
    expect(onWorkers.output).toBe(mapped.output);
  });

  it('is taken only with one lane and no rate limit', async () => {
    const input = await writeInput(300);
    const runWith = async (overrides: Partial<PipelineSpec>) => {
      const sink = new LineSink();
      // The input's malformed line is dropped (on_error: drop): the rest must reach the sink.
      const s = spec({ source: { type: 'file', config: { path: input } }, sink: { type: 'lines', config: {} }, onError: 'drop', ...overrides });
      await runPipeline({ spec: s, registry: registryWith(sink), checkpointStore: new MemoryCheckpointStore(), dataDir: dir }).done;
      return sink;
    };
    expect((await runWith({})).lineWrites).toBeGreaterThan(0);
    expect((await runWith({ parallelism: 2 })).lineWrites).toBe(0);
    expect((await runWith({ rateLimit: 1_000_000 })).lineWrites).toBe(0);
    const plain = await runWith({});
    expect(plain.recordWrites).toBe(0);
    expect(plain.lines).toBe((await runWith({ parallelism: 2 })).lines);
  });

  it('dead-letters the lines of a block the sink gave up on, or fails the run without acking them', async () => {
    const input = join(dir, 'in.jsonl');
    await writeFile(input, '{"a":1}\n{"a":2}\n');
    const deadPath = join(dir, 'dead.jsonl');
    const sink = new LineSink(true);
    const s = spec({
      source: { type: 'file', config: { path: input } },
      sink: { type: 'lines', config: {} },
      deadLetter: { type: 'file', config: { path: deadPath } },
      retry: { maxAttempts: 2, initialMs: 1, maxMs: 2 },
    });
    const store = new MemoryCheckpointStore();
    const summary = await runPipeline({ spec: s, registry: registryWith(sink), checkpointStore: store, dataDir: dir }).done;
    expect(summary).toMatchObject({ state: 'stopped', deadLettered: 2, recordsOut: 0 });
    expect(sink.lineWrites).toBe(2);
    const letters = (await readFile(deadPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(letters.map((l) => l.record)).toEqual([{ a: 1 }, { a: 2 }]);
    expect(letters[0]).toMatchObject({ stage: 'sink', attempts: 2 });

    const failing = new LineSink(true);
    const store2 = new MemoryCheckpointStore();
    const failed = await runPipeline({
      spec: { ...s, deadLetter: undefined, onError: 'fail' },
      registry: registryWith(failing),
      checkpointStore: store2,
      dataDir: dir,
    }).done;
    expect(failed.state).toBe('failed');
    expect(failed.error?.code).toBe('UNAVAILABLE');
    expect(await store2.load('test')).toBeUndefined();
  });
});
