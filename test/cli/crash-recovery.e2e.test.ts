import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Checkpoint, CheckpointStore } from '../../src/core/ports.js';
import { watchCheckpoints, waitForCheckpoint } from './checkpoints.js';
import { checkLines, checkRecords, writeLines } from './lines.js';
import { cleanup, fileSize, makeTempDir, runWire, startWire } from './harness.js';

const inputLine = (i: number): string => JSON.stringify({ n: i, user: `user${i % 97}`, amount: (i % 1000) / 4 });
const outputLine = (i: number): string =>
  JSON.stringify({ n: i, user: `USER${i % 97}`, amount: (i % 1000) / 4, twice: i * 2 });

let store: CheckpointStore | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
  await cleanup();
});

interface Setup {
  readonly dir: string;
  readonly input: string;
  readonly output: string;
  readonly file: string;
  readonly state: string;
}

async function setup(records: number, pipeline: (paths: { input: string; output: string }) => string[]): Promise<Setup> {
  const dir = await makeTempDir();
  const input = join(dir, 'in.jsonl');
  const output = join(dir, 'out.jsonl');
  const file = join(dir, 'pipeline.yaml');
  await writeLines(input, records, inputLine);
  await writeFile(file, [...pipeline({ input, output }), ''].join('\n'));
  return { dir, input, output, file, state: join(dir, 'state') };
}

const positioned = (checkpoint: Checkpoint): boolean => checkpoint.position !== null;

/**
 * Starts `wire run`, waits until its checkpoint store holds a checkpoint `accept` takes, and kills it with
 * SIGKILL at once. Returns that checkpoint; fails if the run ended by itself first.
 */
async function killAfter(s: Setup, accept: (checkpoint: Checkpoint) => boolean): Promise<Checkpoint> {
  const first = startWire(['run', '--data-dir', s.state, s.file], { cwd: s.dir });
  store = await watchCheckpoints(s.state, first.child, 120_000);
  const seen = await waitForCheckpoint(store, 'crash', first.child, accept, 120_000);
  first.child.kill('SIGKILL');
  const killed = await first.exited(30_000);
  expect(killed.signal, `the first run ended before it could be killed:\n${first.stderr()}`).toBe('SIGKILL');
  expect(seen !== undefined && accept(seen), 'no such checkpoint before the kill').toBe(true);
  return seen!;
}

describe('kill -9 after a checkpoint, then a rerun', () => {
  it('one lane (line blocks): the rerun completes the output with every record exactly once, in order', { timeout: 300_000 }, async () => {
    const records = 2_000_000;
    const s = await setup(records, ({ input, output }) => [
      'name: crash',
      `source: { type: file, config: { path: ${JSON.stringify(input)}, format: jsonl } }`,
      'transforms:',
      '  - { type: map, config: { set: { user: "upper(user)", twice: "n * 2" } } }',
      `sink: { type: file, config: { path: ${JSON.stringify(output)}, format: jsonl } }`,
    ]);
    const checkpoint = await killAfter(s, positioned);
    // Resume is exercised: the rerun starts past the start of the input and the output holds more than nothing.
    expect(checkpoint.position).toBeGreaterThan(0);
    expect(checkpoint.sink).toBeGreaterThan(0);
    const partial = await fileSize(s.output);
    let fullBytes = 0;
    for (let i = 0; i < records; i++) fullBytes += outputLine(i).length + 1;
    expect(partial, 'the first run was killed after writing everything').toBeLessThan(fullBytes);

    const rerun = await runWire(['run', '--data-dir', s.state, s.file], { cwd: s.dir, timeoutMs: 240_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const check = await checkLines(s.output, (i) => (i < records ? outputLine(i) : undefined));
    expect(check.mismatch).toBeUndefined();
    expect(check.lines).toBe(records);
  });

  it('parallelism 4, lanes overtaking: every checkpoint is exact, and the rerun has every record exactly once', { timeout: 300_000 }, async () => {
    const records = 300_000;
    const s = await setup(records, ({ input, output }) => [
      'name: crash',
      `source: { type: file, config: { path: ${JSON.stringify(input)}, format: jsonl } }`,
      'transforms:',
      '  - { type: key, config: { expr: "user" } }',
      // A few batches take seconds, so later ones (and other lanes' shares) are written long before them.
      '  - { type: js, config: { module: ./slow.mjs } }',
      '  - { type: map, config: { set: { user: "upper(user)", twice: "n * 2" } } }',
      `sink: { type: file, config: { path: ${JSON.stringify(output)}, format: jsonl } }`,
      'parallelism: 4',
      'workers: 0',
    ]);
    await writeFile(
      join(s.dir, 'slow.mjs'),
      `export default async (v) => { if (v.n % 100000 === 50000) await new Promise((r) => setTimeout(r, 2500)); return v; };\n`,
    );
    // The file source checkpoints the input offset just after a record: the offset tells how many records precede.
    const countAt = new Map<number, number>();
    let offset = 0;
    let pastFirstSlow = 0;
    for (let i = 0; i < records; i++) {
      countAt.set((offset += inputLine(i).length + 1), i + 1);
      if (i === 60_000) pastFirstSlow = offset;
    }
    const seen: Checkpoint[] = [];
    await killAfter(s, (checkpoint) => {
      if (checkpoint.position !== null && seen.at(-1)?.position !== checkpoint.position) seen.push(checkpoint);
      return (checkpoint.position as number) > pastFirstSlow;
    });

    // Each checkpoint pairs its position with exactly the output that holds the records before it, once each.
    const written = await readFile(s.output);
    for (const checkpoint of seen) {
      const count = countAt.get(checkpoint.position as number);
      expect(count, `checkpoint at ${String(checkpoint.position)} is not at a record boundary`).toBeDefined();
      const prefix = written.subarray(0, checkpoint.sink as number).toString('utf8');
      const ns = prefix === '' ? [] : prefix.trimEnd().split('\n').map((line) => (JSON.parse(line) as { n: number }).n);
      const after = ns.filter((n) => n >= count!).length;
      expect({ checkpoint: count, records: ns.length, after }).toEqual({ checkpoint: count, records: count, after: 0 });
      expect(new Set(ns).size).toBe(count);
    }

    const rerun = await runWire(['run', '--data-dir', s.state, s.file], { cwd: s.dir, timeoutMs: 240_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const parse = (line: string): number | undefined => (JSON.parse(line) as { n?: number }).n;
    const check = await checkRecords(s.output, records, parse, outputLine);
    expect(check).toEqual({ lines: records, missing: 0 });
  });
});

describe('kill -9 before the first checkpoint, appending', () => {
  it('the rerun appends every record once after what the files held before the first run', { timeout: 120_000 }, async () => {
    const records = 200;
    const bad = (i: number): boolean => i % 20 === 7;
    const dir = await makeTempDir();
    const input = join(dir, 'in.jsonl');
    const output = join(dir, 'out.jsonl');
    const dlq = join(dir, 'dlq.jsonl');
    await writeLines(input, records, (i) => (bad(i) ? `not json ${i}` : inputLine(i)));
    await writeFile(output, 'kept from before\n');
    await writeFile(dlq, 'old letter\n');
    const file = join(dir, 'pipeline.yaml');
    await writeFile(
      file,
      [
        'name: crash',
        `source: { type: file, config: { path: ${JSON.stringify(input)}, format: jsonl } }`,
        'transforms:',
        '  - { type: map, config: { set: { user: "upper(user)", twice: "n * 2" } } }',
        `sink: { type: file, config: { path: ${JSON.stringify(output)}, format: jsonl, append: true } }`,
        `dead_letter: { type: file, config: { path: ${JSON.stringify(dlq)}, append: true } }`,
        // Slow enough that the first checkpoint (after a second) comes long after the first records are written.
        'rate_limit: 50',
        'batch_size: 5',
        '',
      ].join('\n'),
    );
    const state = join(dir, 'state');
    const first = startWire(['run', '--data-dir', state, file], { cwd: dir });
    store = await watchCheckpoints(state, first.child, 60_000);
    const before = Buffer.byteLength('kept from before\n');
    // Kill as soon as the first records are in the file: the first checkpoint comes a second later.
    for (let i = 0; i < 60_000 / 5 && (await fileSize(output)) <= before && first.child.exitCode === null; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    first.child.kill('SIGKILL');
    expect((await first.exited(30_000)).signal, first.stderr()).toBe('SIGKILL');
    expect(await fileSize(output)).toBeGreaterThan(before);
    // The premise: nothing was acknowledged before the kill.
    const atKill = await store.load('crash');
    expect(atKill?.position ?? null).toBeNull();

    const rerun = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 60_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const good = Array.from({ length: records }, (_, i) => i).filter((i) => !bad(i));
    expect(await readFile(output, 'utf8')).toBe('kept from before\n' + good.map((i) => outputLine(i) + '\n').join(''));
    const letters = (await readFile(dlq, 'utf8')).trimEnd().split('\n');
    expect(letters[0]).toBe('old letter');
    const lettered = letters.slice(1).map((line) => (JSON.parse(line) as { record: unknown }).record);
    expect(lettered).toEqual(Array.from({ length: records }, (_, i) => i).filter(bad).map((i) => `not json ${i}`));
    // What made it so: the run's opening checkpoint, saved before it wrote anything.
    expect(atKill).toMatchObject({ position: null, sink: before, deadLetter: Buffer.byteLength('old letter\n') });
  });
});
