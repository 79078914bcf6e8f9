import { cp, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, ROOT, runWire } from './harness.js';

describe('dead letters of wire run', () => {
  afterEach(cleanup);

  it('the quick start\'s dead letter names the pipeline and the file and line that its docs cite', async () => {
    const dir = await makeTempDir();
    await mkdir(join(dir, 'examples'));
    await cp(join(ROOT, 'examples'), join(dir, 'examples'), { recursive: true });
    const result = await runWire(['run', 'examples/quickstart.yaml'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    const [letter, ...more] = (await readFile(join(dir, 'out', 'orders.dlq.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(more).toEqual([]);
    const entry = JSON.parse(letter!) as { pipeline: string; source: { file: string; line: number }; stage: string };
    expect(entry).toMatchObject({ pipeline: 'quickstart', stage: 'source', source: { file: './examples/data/orders.jsonl', line: 137 } });
    // The line is the malformed one, and the example and the README say so.
    const lines = (await readFile(join(dir, 'examples', 'data', 'orders.jsonl'), 'utf8')).split('\n');
    expect(() => JSON.parse(lines[entry.source.line - 1]!) as unknown).toThrow();
    expect(await readFile(join(ROOT, 'examples', 'quickstart.yaml'), 'utf8')).toContain(`Line ${entry.source.line} of the input is malformed`);
    expect(await readFile(join(ROOT, 'README.md'), 'utf8')).toContain(JSON.stringify({ source: entry.source }).slice(1, -1));
  });
});
