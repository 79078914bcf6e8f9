import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLines, writeLines } from './lines.js';
import { cleanup, fileSize, makeTempDir, runWire, startWire, waitFor } from './harness.js';

const RECORDS = 1_000_000;

const inputLine = (i: number): string => JSON.stringify({ n: i, user: `user${i % 97}`, amount: (i % 1000) / 4 });
const outputLine = (i: number): string =>
  JSON.stringify({ n: i, user: `USER${i % 97}`, amount: (i % 1000) / 4, twice: i * 2 });

describe('kill -9 in the middle of a run', () => {
  afterEach(cleanup);

  it('a rerun completes the output with every input record exactly once, in order', { timeout: 240_000 }, async () => {
    const dir = await makeTempDir();
    const input = join(dir, 'in.jsonl');
    const output = join(dir, 'out.jsonl');
    const file = join(dir, 'pipeline.yaml');
    const state = join(dir, 'state');
    await writeLines(input, RECORDS, inputLine);
    await writeFile(
      file,
      [
        'name: crash',
        'source:',
        '  type: file',
        `  config: { path: ${JSON.stringify(input)}, format: jsonl }`,
        'transforms:',
        '  - type: map',
        '    config: { set: { user: "upper(user)", twice: "n * 2" } }',
        'sink:',
        '  type: file',
        `  config: { path: ${JSON.stringify(output)}, format: jsonl }`,
        '',
      ].join('\n'),
    );

    // Kill once some output is on disk, well before the end.
    const first = startWire(['run', '--data-dir', state, file], { cwd: dir });
    await waitFor(async () => (await fileSize(output)) > 0 || first.child.exitCode !== null, 120_000, 5);
    first.child.kill('SIGKILL');
    const killed = await first.exited(30_000);
    expect(killed.signal, `the first run finished before it could be killed:\n${first.stderr()}`).toBe('SIGKILL');
    const partial = await fileSize(output);
    expect(partial).toBeGreaterThan(0);
    let fullBytes = 0;
    for (let i = 0; i < RECORDS; i++) fullBytes += outputLine(i).length + 1;
    expect(partial, 'the first run was killed after writing everything').toBeLessThan(fullBytes);

    const rerun = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 180_000 });
    expect(rerun.code, rerun.stderr).toBe(0);

    const check = await checkLines(output, (i) => (i < RECORDS ? outputLine(i) : undefined));
    expect(check.mismatch).toBeUndefined();
    expect(check.lines).toBe(RECORDS);
  });
});
