// Issue 14, "Output at risk": a run that cannot start changes no output; a deleted output has a way out
// (`--from-start`, `wire checkpoints reset`); a checkpoint applies only to the components it was saved for, and a
// resume says where it resumed; a glob reads a new file whatever its name.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openCheckpointStore } from '../../src/engine/checkpoint-store.js';
import { cleanup, exists, makeTempDir, runWire, type Result } from './harness.js';

afterEach(cleanup);

const TIMEOUT = { timeout: 120_000 };

/** The `wire:` lines of stderr (the log lines are JSON). */
function errorLines(result: Result): string {
  return result.stderr
    .split('\n')
    .filter((line) => !line.startsWith('{'))
    .join('\n');
}

async function pipelineFile(dir: string, name: string, lines: readonly string[]): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, [...lines, ''].join('\n'));
  return file;
}

function filePipeline(name: string, input: string, output: string, deadLetter = 'dlq.jsonl'): string[] {
  return [
    `name: ${name}`,
    `source: { type: file, config: { path: ${JSON.stringify(input)} } }`,
    "transforms: [{ type: filter, config: { expr: 'n != 2' } }]",
    `sink: { type: file, config: { path: ${JSON.stringify(output)} } }`,
    `dead_letter: { type: file, config: { path: ${JSON.stringify(deadLetter)} } }`,
  ];
}

const records = (from: number, to: number): string => {
  let text = '';
  for (let n = from; n < to; n++) text += `{"n":${n}}\n`;
  return text;
};

describe('a run that cannot start leaves every output as it was', () => {
  it('a mistyped source path: the sink and dead-letter files keep their bytes', TIMEOUT, async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'out.jsonl'), '{"kept":1}\n{"kept":2}\n');
    await writeFile(join(dir, 'dlq.jsonl'), '{"old":"letter"}\n');
    const file = await pipelineFile(dir, 'p.yaml', filePipeline('typo', 'typo-input.jsonl', 'out.jsonl'));
    const result = await runWire(['run', file], { cwd: dir });
    expect(result.code, result.stderr).toBe(4);
    expect(errorLines(result)).toContain('wire: NOT_FOUND: file source: no file matches typo-input.jsonl');
    expect(await readFile(join(dir, 'out.jsonl'), 'utf8')).toBe('{"kept":1}\n{"kept":2}\n');
    expect(await readFile(join(dir, 'dlq.jsonl'), 'utf8')).toBe('{"old":"letter"}\n');
  });

  it('a dead-letter file that cannot open: the sink file keeps its bytes', TIMEOUT, async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'in.jsonl'), records(0, 5));
    await writeFile(join(dir, 'out.jsonl'), '{"kept":1}\n');
    await mkdir(join(dir, 'a-directory'));
    const file = await pipelineFile(dir, 'p.yaml', filePipeline('dlq-dir', 'in.jsonl', 'out.jsonl', 'a-directory'));
    const result = await runWire(['run', file], { cwd: dir });
    expect(result.code, result.stderr).not.toBe(0);
    expect(await readFile(join(dir, 'out.jsonl'), 'utf8')).toBe('{"kept":1}\n');
  });

  it('a dead-letter file that cannot be created (under a regular file): the sink file keeps its bytes', TIMEOUT, async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'in.jsonl'), records(0, 5));
    await writeFile(join(dir, 'out.jsonl'), '{"kept":1}\n');
    await writeFile(join(dir, 'plain-file'), 'not a directory\n');
    const file = await pipelineFile(dir, 'p.yaml', filePipeline('dlq-under-file', 'in.jsonl', 'out.jsonl', 'plain-file/dlq.jsonl'));
    const result = await runWire(['run', file], { cwd: dir });
    expect(result.code, result.stderr).toBe(2);
    expect(errorLines(result)).toContain('wire: INVALID_INPUT: file sink: cannot create plain-file/dlq.jsonl: plain-file is not a directory');
    expect(await readFile(join(dir, 'out.jsonl'), 'utf8')).toBe('{"kept":1}\n');
  });

  it('a missing source creates no output file', TIMEOUT, async () => {
    const dir = await makeTempDir();
    const file = await pipelineFile(dir, 'p.yaml', filePipeline('nothing', 'missing.jsonl', 'out/new.jsonl'));
    const result = await runWire(['run', file], { cwd: dir });
    expect(result.code, result.stderr).toBe(4);
    expect(exists(join(dir, 'out'))).toBe(false);
    expect(exists(join(dir, 'dlq.jsonl'))).toBe(false);
  });

  it('--from-start with a source that is gone keeps the checkpoint and the output', TIMEOUT, async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'in.jsonl'), records(0, 5));
    const file = await pipelineFile(dir, 'p.yaml', filePipeline('again', 'in.jsonl', 'out.jsonl'));
    expect((await runWire(['run', file], { cwd: dir })).code).toBe(0);
    const before = await readFile(join(dir, 'out.jsonl'), 'utf8');
    await rm(join(dir, 'in.jsonl'));
    const result = await runWire(['run', '--from-start', file], { cwd: dir });
    expect(result.code, result.stderr).toBe(4);
    expect(await readFile(join(dir, 'out.jsonl'), 'utf8')).toBe(before);
    const show = await runWire(['checkpoints', 'show', 'again'], { cwd: dir });
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toContain('position: 40\n');
  });
});

describe('a deleted output: the error names the ways out, and both work', () => {
  async function runThenDeleteOutput(): Promise<{ dir: string; file: string; expected: string }> {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'in.jsonl'), records(0, 50));
    const file = await pipelineFile(dir, 'p.yaml', filePipeline('deleted', 'in.jsonl', 'out/data.jsonl', 'out/dlq.jsonl'));
    const first = await runWire(['run', file], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const expected = await readFile(join(dir, 'out', 'data.jsonl'), 'utf8');
    expect(expected).toBe(records(0, 2) + records(3, 50));
    await rm(join(dir, 'out'), { recursive: true });
    const stuck = await runWire(['run', file], { cwd: dir });
    expect(stuck.code, stuck.stderr).toBe(5);
    const message = errorLines(stuck);
    expect(message).toMatch(/wire: CONFLICT: file sink: out\/data\.jsonl holds 0 bytes but its checkpoint says \d+ were written/);
    expect(message).toContain('`wire run --from-start`');
    expect(message).toContain('`wire checkpoints reset deleted --data-dir ./.wire`');
    return { dir, file, expected };
  }

  it('wire run --from-start writes the output again', TIMEOUT, async () => {
    const { dir, file, expected } = await runThenDeleteOutput();
    const again = await runWire(['run', '--from-start', file], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(await readFile(join(dir, 'out', 'data.jsonl'), 'utf8')).toBe(expected);
  });

  it('wire checkpoints reset NAME removes the checkpoint, says what it removed, and the rerun writes the output again', TIMEOUT, async () => {
    const { dir, file, expected } = await runThenDeleteOutput();
    const reset = await runWire(['checkpoints', 'reset', 'deleted'], { cwd: dir });
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toMatch(/^removed the checkpoint of deleted \(position \d+, saved \d{4}-\d\d-\d\dT[\d:.]+Z\)/);
    const list = await runWire(['checkpoints', 'list'], { cwd: dir });
    expect(list.stdout).toBe('no checkpoints in ./.wire\n');
    const again = await runWire(['run', file], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(await readFile(join(dir, 'out', 'data.jsonl'), 'utf8')).toBe(expected);
  });
});

describe('wire checkpoints list | show | reset', () => {
  async function twoPipelines(): Promise<{ dir: string; state: string }> {
    const dir = await makeTempDir();
    const state = join(dir, 'state');
    await writeFile(join(dir, 'in.jsonl'), records(0, 4));
    const file = await pipelineFile(dir, 'p.yaml', [
      'pipelines:',
      '  - name: alpha',
      '    source: { type: file, config: { path: in.jsonl } }',
      '    sink: { type: file, config: { path: alpha.jsonl } }',
      '  - name: beta',
      '    source: { type: generate, config: { count: 7 } }',
      '    sink: { type: drop }',
    ]);
    const run = await runWire(['run', '--data-dir', state, file], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    return { dir, state };
  }

  it('list prints one line per pipeline, and one JSON line each with --json', TIMEOUT, async () => {
    const { dir, state } = await twoPipelines();
    const list = await runWire(['checkpoints', 'list', '--data-dir', state], { cwd: dir });
    expect(list.code, list.stderr).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^alpha  file ${join(dir, 'in.jsonl').replaceAll('/', '\\/')}  position 32  saved \\d{4}-`));
    expect(lines[1]).toMatch(/^beta {2}generate \(count 7\) {2}position 6 {2}saved /);
    const json = await runWire(['checkpoints', 'list', '--data-dir', state, '--json'], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    const entries = json.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries.map((e) => [e.type, e.name, e.position])).toEqual([
      ['checkpoint', 'alpha', 32],
      ['checkpoint', 'beta', 6],
    ]);
    expect(entries[0]).toMatchObject({ sink: 32, identity: { source: { type: 'file' }, sink: { type: 'file' } } });
  });

  it('show prints what is stored for one pipeline', TIMEOUT, async () => {
    const { dir, state } = await twoPipelines();
    const show = await runWire(['checkpoints', 'show', 'alpha', '--data-dir', state], { cwd: dir });
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(
      new RegExp(
        [
          '^name: alpha',
          `source: file ${join(dir, 'in.jsonl')} \\(fingerprint [0-9a-f]{32}\\)`,
          'position: 32',
          `sink state: 32 for file ${join(dir, 'alpha.jsonl')}`,
          'saved: \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\n$',
        ].join('\\n'),
      ),
    );
  });

  it('reset removes only the pipeline named, and prints what it removed as JSON with --json', TIMEOUT, async () => {
    const { dir, state } = await twoPipelines();
    const reset = await runWire(['checkpoints', 'reset', 'beta', '--data-dir', state, '--json'], { cwd: dir });
    expect(reset.code, reset.stderr).toBe(0);
    expect(JSON.parse(reset.stdout)).toMatchObject({ type: 'removed', name: 'beta', position: 6 });
    const list = await runWire(['checkpoints', 'list', '--data-dir', state], { cwd: dir });
    expect(list.stdout).toMatch(/^alpha {2}/);
    expect(list.stdout.trimEnd().split('\n')).toHaveLength(1);
  });

  it('an unknown name is NOT_FOUND (exit 4), naming the checkpoints there, as text or as a JSON error line', TIMEOUT, async () => {
    const { dir, state } = await twoPipelines();
    for (const command of ['show', 'reset']) {
      const text = await runWire(['checkpoints', command, 'gamma', '--data-dir', state], { cwd: dir });
      expect(text.code).toBe(4);
      expect(text.stdout).toBe('');
      expect(text.stderr).toMatch(new RegExp(`^wire: NOT_FOUND: no checkpoint named gamma in ${state.replaceAll('/', '\\/')} \\(it holds: alpha, beta\\)\\n`));
      const json = await runWire(['checkpoints', command, 'gamma', '--data-dir', state, '--json'], { cwd: dir });
      expect(json.code).toBe(4);
      expect(JSON.parse(json.stderr)).toMatchObject({ type: 'error', error: { code: 'NOT_FOUND', details: { name: 'gamma' } } });
    }
  });

  it('looking into a data dir that does not exist creates nothing', TIMEOUT, async () => {
    const dir = await makeTempDir();
    const list = await runWire(['checkpoints', 'list', '--data-dir', 'nowhere'], { cwd: dir });
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toBe('no checkpoints in nowhere\n');
    const show = await runWire(['checkpoints', 'show', 'x', '--data-dir', 'nowhere'], { cwd: dir });
    expect(show.code).toBe(4);
    expect(show.stderr).toContain('no checkpoint named x in nowhere (it holds none)');
    expect(exists(join(dir, 'nowhere'))).toBe(false);
  });
});

describe('a checkpoint belongs to the source and sinks it was saved for; a resume says where it resumed', () => {
  const generate = (count: number): string[] => [
    'name: numbers',
    `source: { type: generate, config: { count: ${count} } }`,
    'sink: { type: file, config: { path: out.jsonl } }',
  ];

  it('a changed generate count is refused with CONFLICT until --from-start', TIMEOUT, async () => {
    const dir = await makeTempDir();
    const file = await pipelineFile(dir, 'p.yaml', generate(1100));
    expect((await runWire(['run', file], { cwd: dir })).code).toBe(0);
    await pipelineFile(dir, 'p.yaml', generate(150));
    const refused = await runWire(['run', file], { cwd: dir });
    expect(refused.code, refused.stderr).toBe(5);
    expect(errorLines(refused)).toContain(
      'wire: CONFLICT: pipeline numbers: its checkpoint in ./.wire was saved for the source generate (count 1100), ' +
        'and the pipeline now has generate (count 150): it does not apply. Start over with `wire run --from-start`, ' +
        'or remove the checkpoint with `wire checkpoints reset numbers --data-dir ./.wire`',
    );
    expect((await readFile(join(dir, 'out.jsonl'), 'utf8')).split('\n')).toHaveLength(1101);
    const again = await runWire(['run', '--from-start', file], { cwd: dir });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/^numbers: completed: 150 in, 150 out/m);
    expect((await readFile(join(dir, 'out.jsonl'), 'utf8')).split('\n')).toHaveLength(151);
  });

  it('two files with the same pipeline name and different sources do not share a checkpoint silently', TIMEOUT, async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'a.jsonl'), records(0, 3));
    await writeFile(join(dir, 'b.jsonl'), records(10, 20));
    const a = await pipelineFile(dir, 'a.yaml', filePipeline('same', 'a.jsonl', 'a-out.jsonl', 'a-dlq.jsonl'));
    const b = await pipelineFile(dir, 'b.yaml', filePipeline('same', 'b.jsonl', 'a-out.jsonl', 'a-dlq.jsonl'));
    expect((await runWire(['run', a], { cwd: dir })).code).toBe(0);
    const refused = await runWire(['run', b], { cwd: dir });
    expect(refused.code, refused.stderr).toBe(5);
    expect(errorLines(refused)).toContain(
      `its checkpoint in ./.wire was saved for the source file ${join(dir, 'a.jsonl')}, and the pipeline now has file ${join(dir, 'b.jsonl')}`,
    );
    expect(await readFile(join(dir, 'a-out.jsonl'), 'utf8')).toBe(records(0, 2));
  });

  it('a checkpoint saved for another output file does not cut this one', TIMEOUT, async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'in.jsonl'), records(0, 3));
    await writeFile(join(dir, 'precious.jsonl'), records(100, 200));
    const file = await pipelineFile(dir, 'p.yaml', filePipeline('moved', 'in.jsonl', 'first.jsonl'));
    expect((await runWire(['run', file], { cwd: dir })).code).toBe(0);
    await pipelineFile(dir, 'p.yaml', filePipeline('moved', 'in.jsonl', 'precious.jsonl'));
    const refused = await runWire(['run', file], { cwd: dir });
    expect(refused.code, refused.stderr).toBe(5);
    expect(errorLines(refused)).toContain(`was saved for the sink file ${join(dir, 'first.jsonl')}, and the pipeline now has file ${join(dir, 'precious.jsonl')}`);
    expect(await readFile(join(dir, 'precious.jsonl'), 'utf8')).toBe(records(100, 200));
  });

  it('the summary of a resumed run says so and from where (text and --json); a fresh run does not', TIMEOUT, async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'in.jsonl'), records(0, 3));
    const file = await pipelineFile(dir, 'p.yaml', filePipeline('resumes', 'in.jsonl', 'out.jsonl'));
    const fresh = await runWire(['run', file], { cwd: dir });
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stderr).not.toContain('resumed');
    await writeFile(join(dir, 'in.jsonl'), records(0, 5));
    const resumed = await runWire(['run', file], { cwd: dir });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/^resumes: completed: 2 in, 2 out, .*; resumed from its checkpoint: in\.jsonl at byte 24$/m);
    const json = await runWire(['run', '--json', file], { cwd: dir });
    const summary = json.stderr
      .split('\n')
      .filter((line) => line.includes('"type":"summary"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatchObject({ records_in: 0, resumed_from: 'in.jsonl at byte 40' });
  });
});

describe('a glob source tracks each file', () => {
  const glob = ['name: logs', 'source: { type: file, config: { path: "in/*.jsonl" } }', 'sink: { type: file, config: { path: out.jsonl } }'];

  it('a new file that sorts before the checkpointed one is read on the next run; files read stay read', TIMEOUT, async () => {
    const dir = await makeTempDir();
    await mkdir(join(dir, 'in'));
    await writeFile(join(dir, 'in', 'b.jsonl'), '{"f":"b"}\n');
    await writeFile(join(dir, 'in', 'c.jsonl'), '{"f":"c"}\n');
    const file = await pipelineFile(dir, 'p.yaml', glob);
    expect((await runWire(['run', file], { cwd: dir })).code).toBe(0);
    await writeFile(join(dir, 'in', 'a.jsonl'), '{"f":"a"}\n');
    await writeFile(join(dir, 'in', 'd.jsonl'), '{"f":"d"}\n');
    const second = await runWire(['run', file], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toMatch(/resumed from its checkpoint: in\/c\.jsonl at byte 10 \(1 file read before it\)$/m);
    expect(await readFile(join(dir, 'out.jsonl'), 'utf8')).toBe('{"f":"b"}\n{"f":"c"}\n{"f":"a"}\n{"f":"d"}\n');
    const third = await runWire(['run', file], { cwd: dir });
    expect(third.code, third.stderr).toBe(0);
    expect(third.stderr).toMatch(/^logs: completed: 0 in, 0 out/m);
  });

  it('a checkpoint saved before per-file tracking is read as before: files sorted before its file are done', TIMEOUT, async () => {
    const dir = await makeTempDir();
    await mkdir(join(dir, 'in'));
    await writeFile(join(dir, 'in', 'a.jsonl'), '{"f":"a"}\n');
    await writeFile(join(dir, 'in', 'b.jsonl'), '{"f":"b1"}\n{"f":"b2"}\n');
    await writeFile(join(dir, 'in', 'c.jsonl'), '{"f":"c"}\n');
    await writeFile(join(dir, 'out.jsonl'), '{"f":"a"}\n{"f":"b1"}\n');
    const store = openCheckpointStore(join(dir, '.wire'));
    try {
      // The shape an older wire saved: no `done` list, no identity.
      await store.save('logs', { position: { file: 'in/b.jsonl', offset: 11 }, sink: 21, updatedAt: Date.now() });
    } finally {
      await store.close();
    }
    const file = await pipelineFile(dir, 'p.yaml', glob);
    const result = await runWire(['run', file], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(await readFile(join(dir, 'out.jsonl'), 'utf8')).toBe('{"f":"a"}\n{"f":"b1"}\n{"f":"b2"}\n{"f":"c"}\n');
  });
});
