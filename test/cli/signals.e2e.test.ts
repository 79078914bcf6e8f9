import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkLines, writeLines } from './lines.js';
import { cleanup, exists, fileSize, makeTempDir, runWire, startWire, waitFor } from './harness.js';

const RECORDS = 200_000;
const line = (i: number): string => JSON.stringify({ n: i, note: 'signal test' });

/** A pipeline slowed by rate_limit so that a signal surely lands in the middle of it. */
async function slowPipeline(dir: string): Promise<{ file: string; output: string; state: string }> {
  const input = join(dir, 'in.jsonl');
  const output = join(dir, 'out.jsonl');
  const file = join(dir, 'pipeline.yaml');
  await writeLines(input, RECORDS, line);
  await writeFile(
    file,
    [
      'name: slow',
      'rate_limit: 40000',
      'source:',
      '  type: file',
      `  config: { path: ${JSON.stringify(input)}, format: jsonl }`,
      'sink:',
      '  type: file',
      `  config: { path: ${JSON.stringify(output)}, format: jsonl }`,
      '',
    ].join('\n'),
  );
  return { file, output, state: join(dir, 'state') };
}

describe('signals during wire run', () => {
  afterEach(cleanup);

  it('SIGTERM drains, exits 0, and leaves a checkpoint a rerun continues from exactly', { timeout: 120_000 }, async () => {
    const dir = await makeTempDir();
    const { file, output, state } = await slowPipeline(dir);
    const run = startWire(['run', '--data-dir', state, file], { cwd: dir });
    await waitFor(async () => (await fileSize(output)) > 0, 30_000);
    run.child.kill('SIGTERM');
    const exited = await run.exited(30_000);
    expect(exited.code, run.stderr()).toBe(0);
    expect(run.stderr()).toMatch(/slow: stopped: /);

    // Drained: everything written so far is whole lines, in order, with nothing after it.
    const drained = await checkLines(output, (i) => (i < RECORDS ? line(i) : undefined));
    expect(drained.mismatch).toBeUndefined();
    expect(drained.lines).toBeGreaterThan(0);
    expect(drained.lines).toBeLessThan(RECORDS);

    const rerun = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 60_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const all = await checkLines(output, (i) => (i < RECORDS ? line(i) : undefined));
    expect(all.mismatch).toBeUndefined();
    expect(all.lines).toBe(RECORDS);
  });

  it('a second signal exits at once with code 130 while the drain is still waiting', { timeout: 60_000 }, async () => {
    // A sink server that takes requests and never answers: the drain after the first signal cannot end.
    let requests = 0;
    const server = createServer(() => {
      requests++;
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const dir = await makeTempDir();
      const file = join(dir, 'pipeline.yaml');
      await writeFile(
        file,
        [
          'name: stuck',
          'source:',
          '  type: generate',
          '  config: { count: 10 }',
          'sink:',
          '  type: http',
          `  config: { url: "http://127.0.0.1:${port}/in", timeout: 60000, batch: { period: 1 } }`,
          '',
        ].join('\n'),
      );
      const run = startWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir });
      await waitFor(() => requests > 0, 30_000);
      run.child.kill('SIGTERM');
      await waitFor(() => run.stderr().includes('draining'), 30_000);
      run.child.kill('SIGTERM');
      const exited = await run.exited(30_000);
      expect(exited.code, run.stderr()).toBe(130);
      expect(run.stderr()).toContain('wire: SIGTERM: exiting at once');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('SIGTERM ends the run while a js function loops forever', { timeout: 90_000 }, async () => {
    const dir = await makeTempDir();
    const marker = join(dir, 'looping');
    await writeFile(
      join(dir, 'loop.mjs'),
      [
        "import { writeFileSync } from 'node:fs';",
        'export default function loop(value) {',
        `  writeFileSync(${JSON.stringify(marker)}, 'yes');`,
        '  for (;;);',
        '}',
        '',
      ].join('\n'),
    );
    const file = join(dir, 'pipeline.yaml');
    await writeFile(
      file,
      [
        'name: looping',
        'workers: 0',
        'source: { type: generate, config: { count: 10 } }',
        'transforms: [ { type: js, config: { module: ./loop.mjs } } ]',
        `sink: { type: file, config: { path: ${JSON.stringify(join(dir, 'out.jsonl'))} } }`,
        '',
      ].join('\n'),
    );
    const run = startWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir });
    await waitFor(() => exists(marker), 30_000);
    run.child.kill('SIGTERM');
    // Bounded by the stop deadline, not by the function: the loop never ends.
    const exited = await run.exited(30_000);
    expect(exited, run.stderr()).toEqual({ code: 0, signal: null });
    expect(run.stderr()).toContain('wire: SIGTERM: draining');
  });
});
