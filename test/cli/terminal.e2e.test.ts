// `wire run` on a terminal (a pseudo-terminal through util-linux `script`): the live progress line must never
// erase a line that something else put on the terminal — records of a stdout sink, Wire's own log lines, or the
// output of a `js` transform. Each test replays the terminal's output (test/cli/screen.ts) and reads the screen.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeEndpoints, endpoint } from './endpoints.js';
import { cleanup, makeTempDir, ROOT } from './harness.js';
import { controlSequences, screenOf } from './screen.js';
import { killTerminals, runWireOnTerminal } from './terminal.js';

afterEach(async () => {
  await killTerminals();
  await closeEndpoints();
  await cleanup();
});

/** `{"n":0,…}` … `{"n":19,…}`: what examples/generate-to-stdout.yaml writes. */
const exampleRecord = (n: number): string =>
  JSON.stringify({ n, user: `USER-${n % 7}`, amount: n * 12.5, big: n * 12.5 > 100 });

/** The start of pipeline NAME's live line (its summary reads `NAME: state: …`). */
const liveLineOf = (name: string): string => `${name} in `;

describe('wire run on a terminal', () => {
  it('keeps every line a stdout sink writes to the same terminal (no live line there)', async () => {
    const dir = await makeTempDir();
    const { code, output } = await runWireOnTerminal(['run', '--data-dir', dir, 'examples/generate-to-stdout.yaml'], { cwd: ROOT });
    expect(code, output).toBe(0);
    const screen = screenOf(output).filter((line) => line !== '');
    expect(screen.slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, n) => exampleRecord(n)));
    expect(screen[20]).toMatch(/^generate-to-stdout: completed: 20 in, 20 out, 0 dead-lettered in /);
    expect(screen).toHaveLength(21);
  });

  it('draws the live line in place when stdout goes elsewhere, and leaves only the summary', async () => {
    const dir = await makeTempDir();
    const out = join(dir, 'out.jsonl');
    const { code, output } = await runWireOnTerminal(['run', '--data-dir', dir, 'examples/generate-to-stdout.yaml'], {
      cwd: ROOT,
      stdoutTo: out,
    });
    expect(code, output).toBe(0);
    expect(output).toContain(liveLineOf('generate-to-stdout'));
    expect(controlSequences(output).filter((sequence) => sequence.endsWith('A'))).toEqual([]);
    const screen = screenOf(output).filter((line) => line !== '');
    expect(screen).toHaveLength(1);
    expect(screen[0]).toMatch(/^generate-to-stdout: completed: 20 in, 20 out, 0 dead-lettered in /);
    expect((await readFile(out, 'utf8')).trim().split('\n')).toEqual(Array.from({ length: 20 }, (_, n) => exampleRecord(n)));
  });

  it("keeps every line Wire logs while its live line is drawn", async () => {
    // Every third request is refused: under on_error: drop each refusal is one warning, logged mid-run.
    let refused = 0;
    const { url } = await endpoint((request) => {
      if (request % 3 !== 0) return 200;
      refused++;
      return 400;
    });
    const dir = await makeTempDir();
    const file = join(dir, 'pipeline.yaml');
    await writeFile(
      file,
      [
        'name: to-http',
        'source: { type: generate, config: { count: 20, rate: 10 } }',
        `sink: { type: http, config: { url: "${url}", batch: { count: 1, period: 1 } } }`,
        'on_error: drop',
        '',
      ].join('\n'),
    );
    const { code, output } = await runWireOnTerminal(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir });
    expect(code, output).toBe(0);
    expect(output).toContain(liveLineOf('to-http'));
    expect(refused).toBeGreaterThan(2);
    const screen = screenOf(output).filter((line) => line !== '');
    const warnings = screen.filter((line) => line.startsWith('wire: to-http: sink write failed after 1 attempt(s): '));
    expect(warnings, output).toHaveLength(refused);
    expect(screen.at(-1)).toMatch(new RegExp(`^to-http: completed: 20 in, ${20 - refused} out, 0 dead-lettered, ${refused} dropped in `));
    expect(screen).toHaveLength(refused + 1);
  });

  it('never erases what another writer prints on the terminal (a js transform writing to stderr)', async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, 'noisy.mjs'), "export default function noisy(value) { console.error(`note ${value.i}`); return value; }\n");
    const file = join(dir, 'pipeline.yaml');
    await writeFile(
      file,
      [
        'name: noisy',
        'source: { type: generate, config: { count: 20, rate: 10 } }',
        'transforms: [ { type: js, config: { module: ./noisy.mjs } } ]',
        `sink: { type: file, config: { path: ${JSON.stringify(join(dir, 'out.jsonl'))} } }`,
        '',
      ].join('\n'),
    );
    const { code, output } = await runWireOnTerminal(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir });
    expect(code, output).toBe(0);
    expect(output).toContain(liveLineOf('noisy'));
    const screen = screenOf(output).join('\n');
    // A note may follow a stale live line on its line; it is never wiped.
    for (let i = 0; i < 20; i++) expect(screen, output).toMatch(new RegExp(`note ${i}$`, 'm'));
    expect(screen).toMatch(/^noisy: completed: 20 in, 20 out/m);
  });
});
