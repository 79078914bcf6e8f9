import { cp, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, ROOT, runWire } from './harness.js';

// The quick start from the README, run from a copy of the repository's examples so the test
// writes nothing into the checkout.
async function copyExamples(): Promise<string> {
  const dir = await makeTempDir();
  await mkdir(join(dir, 'examples'));
  await cp(join(ROOT, 'examples'), join(dir, 'examples'), { recursive: true });
  return dir;
}

function expectedQuickstartOutput(input: string): { out: string[]; malformed: string[] } {
  const out: string[] = [];
  const malformed: string[] = [];
  for (const line of input.split('\n')) {
    if (line === '') continue;
    let value: { amount: number; user: string; total?: number };
    try {
      value = JSON.parse(line) as typeof value;
    } catch {
      malformed.push(line);
      continue;
    }
    if (!(value.amount > 100)) continue;
    value.user = value.user.toUpperCase();
    value.total = Math.round(value.amount * 1.2 * 100) / 100;
    out.push(JSON.stringify(value));
  }
  return { out, malformed };
}

describe('wire run examples/quickstart.yaml', () => {
  afterEach(cleanup);

  it('filters and maps every order to ./out, dead-letters the malformed line and prints a summary', async () => {
    const dir = await copyExamples();
    const result = await runWire(['run', 'examples/quickstart.yaml'], { cwd: dir });
    expect(result.stderr).toMatch(/quickstart: completed: 300 in, 177 out, 1 dead-lettered, 122 filtered in /);
    expect(result.code).toBe(0);

    const input = await readFile(join(dir, 'examples', 'data', 'orders.jsonl'), 'utf8');
    const expected = expectedQuickstartOutput(input);
    expect(expected.malformed).toHaveLength(1);
    const output = (await readFile(join(dir, 'out', 'orders.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(output.map((l) => JSON.parse(l) as unknown)).toEqual(expected.out.map((l) => JSON.parse(l) as unknown));

    const deadLetters = (await readFile(join(dir, 'out', 'orders.dlq.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(deadLetters).toHaveLength(1);
    const entry = deadLetters[0]!;
    expect(entry).toContain('mallory');
    expect(entry).toMatch(/malformed JSON/);
  });

  it('resumes from its checkpoint on a rerun and reprocesses everything with --from-start', async () => {
    const dir = await copyExamples();
    expect((await runWire(['run', 'examples/quickstart.yaml'], { cwd: dir })).code).toBe(0);
    const first = await readFile(join(dir, 'out', 'orders.jsonl'), 'utf8');

    const again = await runWire(['run', 'examples/quickstart.yaml'], { cwd: dir });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/quickstart: completed: 0 in, 0 out/);
    expect(await readFile(join(dir, 'out', 'orders.jsonl'), 'utf8')).toBe(first);

    const fresh = await runWire(['run', '--from-start', 'examples/quickstart.yaml'], { cwd: dir });
    expect(fresh.code).toBe(0);
    expect(fresh.stderr).toMatch(/quickstart: completed: 300 in, 177 out/);
  });

  it('prints progress and a summary as JSON lines with --json', async () => {
    const dir = await copyExamples();
    const result = await runWire(['run', '--json', '--data-dir', join(dir, 'state'), 'examples/quickstart.yaml'], { cwd: dir });
    expect(result.code).toBe(0);
    const lines = result.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines.find((l) => l.type === 'summary');
    expect(summary).toMatchObject({
      pipeline: 'quickstart',
      state: 'completed',
      records_in: 300,
      records_out: 177,
      dead_lettered: 1,
      dropped: 0,
      filtered: 122,
    });
    expect(typeof summary?.peak_rss_mb).toBe('number');
  });
});
