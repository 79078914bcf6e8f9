// The exit-code table of docs/cli.md, row by row: each row's code comes from the error table in src/core/errors.ts,
// and each row is triggered end to end through the built `wire` (http endpoints on 127.0.0.1, port 0).
import { readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CODES, ERROR_TABLE, type ErrorCode } from '../../src/core/errors.js';
import { closeEndpoints, endpoint } from './endpoints.js';
import { cleanup, makeTempDir, ROOT, runWire, startWire, waitFor } from './harness.js';

afterEach(async () => {
  await closeEndpoints();
  await cleanup();
});

/** The rows of the exit-code table in docs/cli.md: the codes named in the first column, the exit in the second. */
async function documentedRows(): Promise<{ codes: string[]; exit: number }[]> {
  const docs = await readFile(join(ROOT, 'docs', 'cli.md'), 'utf8');
  const table = docs.split('## Exit codes')[1]!.split('\n\n').find((block) => block.startsWith('| code | exit |'))!;
  return table
    .split('\n')
    .slice(2)
    .map((row) => row.split('|').map((cell) => cell.trim()))
    .map(([, codes, exit]) => ({ codes: [...codes!.matchAll(/`([A-Z_]+)`/g)].map((m) => m[1]!), exit: Number(exit) }));
}

/** Writes a pipeline file (YAML lines) in a fresh temp dir; returns the dir and the file. */
async function pipeline(lines: string[]): Promise<{ dir: string; file: string }> {
  const dir = await makeTempDir();
  const file = join(dir, 'pipeline.yaml');
  await writeFile(file, lines.join('\n') + '\n');
  return { dir, file };
}

async function run(dir: string, file: string): Promise<{ code: number | null; stderr: string }> {
  return runWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir, timeoutMs: 60_000 });
}

async function httpSinkRun(status: number | 'never', extra: string[] = []): Promise<{ code: number | null; stderr: string }> {
  const { url } = await endpoint(status);
  const { dir, file } = await pipeline([
    'name: to-http',
    'source: { type: generate, config: { count: 5 } }',
    `sink: { type: http, config: { url: "${url}", timeout: 200, batch: { period: 10 } } }`,
    'retry: { max_attempts: 2, initial: 1ms, max: 5ms }',
    'on_error: fail',
    ...extra,
  ]);
  return run(dir, file);
}

/** Each documented exit, with every way the table names to reach it. */
const TRIGGERS: Record<number, [string, () => Promise<{ code: number | null; stderr: string }>][]> = {
  0: [
    [
      'every pipeline completed',
      async () => {
        const { dir, file } = await pipeline(['name: ok', 'source: { type: generate, config: { count: 3 } }', 'sink: { type: drop }']);
        return run(dir, file);
      },
    ],
  ],
  1: [
    [
      'an unexpected failure (an OS error Wire does not map: the file sink path is a directory)',
      async () => {
        const { dir, file } = await pipeline(['name: odd', 'source: { type: generate, config: { count: 3 } }', 'sink: { type: file, config: { path: . } }']);
        return run(dir, file);
      },
    ],
  ],
  2: [
    [
      'a bad pipeline file',
      async () => {
        const { dir, file } = await pipeline(['name: bad', 'source: { type: generat }', 'sink: { type: drop }']);
        return run(dir, file);
      },
    ],
    ['bad command-line usage', async () => runWire(['run', '--bogus', 'x.yaml'], { cwd: ROOT })],
    [
      'a record that failed with on_error: fail',
      async () => {
        const { dir, file } = await pipeline([
          'name: refuses',
          'source: { type: generate, config: { count: 3 } }',
          'transforms: [ { type: map, config: { set: { x: "upper(i)" } } } ]',
          'sink: { type: drop }',
          'on_error: fail',
        ]);
        return run(dir, file);
      },
    ],
    ['an http sink answered 400 under on_error: fail', async () => httpSinkRun(400)],
  ],
  3: [
    ['an http sink answered 401', async () => httpSinkRun(401)],
    ['an http sink answered 403', async () => httpSinkRun(403)],
  ],
  4: [['the pipeline file does not exist', async () => runWire(['run', 'no-such-pipeline.yaml'], { cwd: await makeTempDir() })]],
  5: [
    [
      'a file sink cut below its checkpoint (changed outside Wire)',
      async () => {
        const { dir, file } = await pipeline(['name: kept', 'source: { type: generate, config: { count: 10 } }', 'sink: { type: file, config: { path: out.jsonl } }']);
        expect((await run(dir, file)).code).toBe(0);
        await truncate(join(dir, 'out.jsonl'), 5);
        return run(dir, file);
      },
    ],
  ],
  6: [['an http sink timed out on every attempt', async () => httpSinkRun('never')]],
  7: [['an http sink answered 503 on every attempt', async () => httpSinkRun(503)]],
  130: [
    [
      'a second SIGINT while the drain waits',
      async () => {
        const { url, requests } = await endpoint('never');
        const { dir, file } = await pipeline([
          'name: stuck',
          'source: { type: generate, config: { count: 10 } }',
          `sink: { type: http, config: { url: "${url}", timeout: 60000, batch: { period: 1 } } }`,
        ]);
        const wire = startWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir });
        await waitFor(() => requests() > 0, 30_000);
        wire.child.kill('SIGINT');
        await waitFor(() => wire.stderr().includes('draining'), 30_000);
        wire.child.kill('SIGINT');
        const { code } = await wire.exited(30_000);
        return { code, stderr: wire.stderr() };
      },
    ],
  ],
  141: [
    [
      "stdout's reader went away",
      async () => {
        const { dir, file } = await pipeline(['name: endless', 'source: { type: generate }', 'sink: { type: stdout }']);
        const wire = startWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir });
        await waitFor(() => wire.stdout().includes('\n'), 30_000);
        wire.child.stdout!.destroy();
        const { code } = await wire.exited(30_000);
        return { code, stderr: wire.stderr() };
      },
    ],
  ],
};

describe('the exit-code table of docs/cli.md', () => {
  it('has a row for every error code, with the exit the error table gives it', async () => {
    const rows = await documentedRows();
    const documented = rows.flatMap((row) => row.codes.map((code) => [code, row.exit] as const));
    expect(documented.map(([code]) => code).sort()).toEqual([...ERROR_CODES].sort());
    for (const [code, exit] of documented) expect(ERROR_TABLE[code as ErrorCode].exitCode, code).toBe(exit);
  });

  it('has a test below for every row, and no test for an undocumented exit', async () => {
    const exits = (await documentedRows()).map((row) => row.exit);
    expect(exits.sort((a, b) => a - b)).toEqual(Object.keys(TRIGGERS).map(Number).sort((a, b) => a - b));
  });

  for (const [exit, triggers] of Object.entries(TRIGGERS)) {
    for (const [when, trigger] of triggers) {
      it(`exit ${exit}: ${when}`, { timeout: 90_000 }, async () => {
        const { code, stderr } = await trigger();
        expect(code, stderr).toBe(Number(exit));
        const codes = Object.entries(ERROR_TABLE).filter(([, mapping]) => mapping.exitCode === Number(exit)).map(([name]) => name);
        // A failure says which code it is; a success or a signal names none.
        if (codes.length > 0) expect(stderr).toMatch(new RegExp(`^(wire: (${codes.join('|')}): |.*"code":"(${codes.join('|')})")`, 'm'));
        else expect(stderr).not.toMatch(new RegExp(`^wire: (${ERROR_CODES.join('|')}): `, 'm'));
      });
    }
  }
});
