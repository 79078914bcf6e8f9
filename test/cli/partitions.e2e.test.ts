import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { partitionsOf } from '../../src/connectors/partitions.js';
import { cleanup, makeTempDir, runWire } from './harness.js';

const COUNT = 1000;

/** A pipeline file: this source into a jsonl file. */
function pipelineFile(name: string, source: Record<string, unknown>, out: string): string {
  return JSON.stringify({ name, source, sink: { type: 'file', config: { path: out } } });
}

async function numbersIn(path: string): Promise<number[]> {
  return (await readFile(path, 'utf8'))
    .trimEnd()
    .split('\n')
    .map((line) => (JSON.parse(line) as { i: number }).i);
}

describe('wire run with generate partitions', () => {
  afterEach(cleanup);

  it('one run per task of partitionsOf makes every number exactly once; partitions alone makes them all in one run', { timeout: 120_000 }, async () => {
    const dir = await makeTempDir();
    const source = { type: 'generate', config: { count: COUNT, partitions: 4 } };
    const tasks = await partitionsOf(source);
    expect(tasks.map((t) => t.id)).toEqual(['0', '1', '2', '3']);

    const seen: number[] = [];
    for (const task of tasks) {
      const file = join(dir, `task-${task.id}.json`);
      const out = join(dir, `out-${task.id}.jsonl`);
      await writeFile(file, pipelineFile(`task-${task.id}`, task.source, out));
      const result = await runWire(['run', file, '--data-dir', join(dir, 'data')], { cwd: dir });
      expect(result.code, result.stderr).toBe(0);
      const got = await numbersIn(out);
      // Within a task, in order, and only its own residue.
      expect(got).toEqual([...got].sort((a, b) => a - b));
      expect(got.every((i) => i % 4 === Number(task.id))).toBe(true);
      seen.push(...got);
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: COUNT }, (_, i) => i));

    const whole = join(dir, 'whole.json');
    await writeFile(whole, pipelineFile('whole', source, join(dir, 'whole.jsonl')));
    const result = await runWire(['run', whole, '--data-dir', join(dir, 'data')], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(await numbersIn(join(dir, 'whole.jsonl'))).toEqual(Array.from({ length: COUNT }, (_, i) => i));
  });

  it('wire validate names a partition at or above partitions', async () => {
    const dir = await makeTempDir();
    const file = join(dir, 'bad.json');
    await writeFile(file, pipelineFile('bad', { type: 'generate', config: { count: 3, partitions: 2, partition: 2 } }, join(dir, 'o.jsonl')));
    const result = await runWire(['validate', file], { cwd: dir });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('source.config.partition');
  });
});
