// Two `wire run`s of one pipeline on one data dir would both resume from its checkpoint and write its output
// twice: the second is refused before anything opens, and a run killed with kill -9 does not hold the pipeline.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fileSize, makeTempDir, runWire, startWire, waitFor, type WireProcess } from './harness.js';

afterEach(cleanup);

const TIMEOUT = { timeout: 120_000 };

const PIPELINE = [
  'name: endless',
  'source: { type: generate, config: { rate: 200, record: { n: "i" } } }',
  'sink: { type: file, config: { path: out.jsonl } }',
  '',
].join('\n');

/** Starts the endless pipeline and waits until it has written (so it holds the pipeline). */
async function startWriting(dir: string, file: string): Promise<WireProcess> {
  const first = startWire(['run', file], { cwd: dir });
  await waitFor(async () => (await fileSize(join(dir, 'out.jsonl'))) > 0 || first.child.exitCode !== null, 30_000);
  expect(first.child.exitCode, first.stderr()).toBeNull();
  return first;
}

describe('one run of a pipeline per data dir', () => {
  it('a second run of a running pipeline exits 5 and writes nothing; the first goes on and a later run resumes', TIMEOUT, async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'p.yaml');
    await writeFile(file, PIPELINE);
    const first = await startWriting(dir, file);

    const second = await runWire(['run', file], { cwd: dir });
    expect(second.code, second.stderr).toBe(5);
    expect(second.stderr).toMatch(/wire: CONFLICT: pipeline endless is already running on the data dir \.\/\.wire \(pid \d+ on /);

    const reset = await runWire(['checkpoints', 'reset', 'endless'], { cwd: dir });
    expect(reset.code, reset.stderr).toBe(5);
    expect(reset.stderr).toContain('wire: CONFLICT: pipeline endless is running');

    first.child.kill('SIGINT');
    expect((await first.exited(30_000)).code, first.stderr()).toBe(0);
    const written = await readFile(join(dir, 'out.jsonl'), 'utf8');
    const numbers = written.trim().split('\n').map((line) => (JSON.parse(line) as { n: number }).n);
    // One writer: each record once, in order.
    expect(numbers).toEqual(numbers.map((_, i) => i));

    const again = startWire(['run', file], { cwd: dir });
    await waitFor(async () => (await fileSize(join(dir, 'out.jsonl'))) > written.length || again.child.exitCode !== null, 30_000);
    expect(again.child.exitCode, again.stderr()).toBeNull();
    again.child.kill('SIGINT');
    expect((await again.exited(30_000)).code, again.stderr()).toBe(0);
  });

  it('a run killed with kill -9 does not hold its pipeline: the rerun starts', TIMEOUT, async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'p.yaml');
    await writeFile(file, PIPELINE);
    const first = await startWriting(dir, file);
    first.child.kill('SIGKILL');
    await first.exited(30_000);

    const rerun = startWire(['run', file], { cwd: dir });
    const before = await fileSize(join(dir, 'out.jsonl'));
    await waitFor(async () => (await fileSize(join(dir, 'out.jsonl'))) > before || rerun.child.exitCode !== null, 30_000);
    expect(rerun.child.exitCode, rerun.stderr()).toBeNull();
    rerun.child.kill('SIGINT');
    expect((await rerun.exited(30_000)).code, rerun.stderr()).toBe(0);
  });

  it('other pipelines run side by side on one data dir', TIMEOUT, async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'p.yaml');
    await writeFile(file, PIPELINE);
    const first = await startWriting(dir, file);
    const other = join(dir, 'other.yaml');
    await writeFile(other, 'name: other\nsource: { type: generate, config: { count: 3 } }\nsink: { type: file, config: { path: other.jsonl } }\n');
    const result = await runWire(['run', other], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    first.child.kill('SIGINT');
    expect((await first.exited(30_000)).code, first.stderr()).toBe(0);
  });
});
