// `wire run … | head -1`: stdout's reader goes away mid-run. The run ends as a Unix tool's would on SIGPIPE —
// quietly, exit 141 — its pipelines stopped, and a rerun resumes without skipping a record it never confirmed.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/core/errors.js';
import { cleanup, makeTempDir, ROOT, runWire, startWire, type WireProcess } from './harness.js';

afterEach(cleanup);

/** Reads stdout up to its first line, then closes the pipe's read end, as `head -1` does. */
async function closeAfterFirstLine(wire: WireProcess): Promise<void> {
  const stdout = wire.child.stdout!;
  await new Promise<void>((resolve) => {
    const onData = (): void => {
      if (!wire.stdout().includes('\n')) return;
      stdout.off('data', onData);
      stdout.destroy();
      resolve();
    };
    stdout.on('data', onData);
  });
}

const COUNT = 1_000_000;

async function pipelines(dir: string): Promise<string> {
  const file = join(dir, 'pipeline.yaml');
  await writeFile(
    file,
    [
      'pipelines:',
      '  - name: to-stdout',
      `    source: { type: generate, config: { count: ${COUNT}, record: { i: "i" } } }`,
      '    sink: { type: stdout }',
      '  - name: to-file',
      '    source: { type: generate, config: { rate: 1000 } }',
      `    sink: { type: file, config: { path: ${JSON.stringify(join(dir, 'out.jsonl'))} } }`,
      '',
    ].join('\n'),
  );
  return file;
}

describe('wire run when stdout closes', () => {
  it('stops every pipeline quietly and exits 141, without a stack trace', async () => {
    const dir = await makeTempDir();
    const wire = startWire(['run', '--data-dir', join(dir, 'state'), await pipelines(dir)], { cwd: dir });
    await closeAfterFirstLine(wire);
    const { code } = await wire.exited(60_000);
    const stderr = wire.stderr();
    expect(code, stderr).toBe(141);
    expect(stderr).not.toMatch(/EPIPE|^\s+at /m);
    expect(stderr).toContain('wire: SIGPIPE: stdout closed; stopping\n');
    expect(stderr).toMatch(/^to-stdout: stopped: [\d,]+ in, [\d,]+ out, 0 dead-lettered in /m);
    expect(stderr).toMatch(/^to-file: stopped: /m);
    expect(stderr).not.toMatch(new RegExp(`^wire: (${ERROR_CODES.join('|')}): `, 'm'));
  });

  it('keeps what was confirmed: the rerun resumes at or before the first record not written', async () => {
    const dir = await makeTempDir();
    const file = await pipelines(dir);
    const state = join(dir, 'state');
    const wire = startWire(['run', '--json', '--data-dir', state, file], { cwd: dir });
    await closeAfterFirstLine(wire);
    expect((await wire.exited(60_000)).code, wire.stderr()).toBe(141);
    const summaries = wire
      .stderr()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; pipeline?: string; state?: string; records_out?: number });
    expect(summaries).toContainEqual({ type: 'signal', signal: 'SIGPIPE', action: 'stop' });
    const first = summaries.find((s) => s.type === 'summary' && s.pipeline === 'to-stdout')!;
    expect(first).toMatchObject({ state: 'stopped' });
    expect(summaries.some((s) => s.type === 'error')).toBe(false);

    // The rerun of the stdout pipeline alone, to a reader that takes everything.
    const only = join(dir, 'only.yaml');
    await writeFile(
      only,
      ['name: to-stdout', `source: { type: generate, config: { count: ${COUNT}, record: { i: "i" } } }`, 'sink: { type: stdout }', ''].join('\n'),
    );
    const rerun = await runWire(['run', '--data-dir', state, only], { cwd: dir, timeoutMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const values = rerun.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { i: number }).i);
    expect(values[0]).toBeLessThanOrEqual(first.records_out!);
    expect(values.at(-1)).toBe(COUNT - 1);
    expect(values.length).toBe(COUNT - values[0]!);
  });

  it('ends any other command whose stdout closed with 141 too, quietly', async () => {
    const wire = startWire(['connectors', '--markdown'], { cwd: ROOT });
    // Closed before the child has even started: its one write meets a pipe with no reader.
    wire.child.stdout!.destroy();
    const { code } = await wire.exited(30_000);
    expect(code, wire.stderr()).toBe(141);
    expect(wire.stderr()).toBe('');
  });

  it('reports a stdout that cannot be written (a full device) as UNAVAILABLE, exit 7', async () => {
    const full = openSync('/dev/full', 'w');
    try {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'wire.js'), 'connectors', '--markdown'], { stdio: ['ignore', full, 'pipe'] });
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      expect(code, stderr).toBe(7);
      expect(stderr).toBe('wire: UNAVAILABLE: cannot write to stdout: ENOSPC: no space left on device, write\n');
    } finally {
      closeSync(full);
    }
  });
});
