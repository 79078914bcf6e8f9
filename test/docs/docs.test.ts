// The docs tell the truth: every command block of README.md and docs/*.md runs here, against the built CLI, and
// its shown output is compared; every other block that is not code is marked <!-- illustrative -->.
// How to write blocks for it: CONTRIBUTING.md.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fencedBlocks, matchesOutput, normalise, plan, type Step } from './blocks.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const PAGES = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const STEP_TIMEOUT_MS = 30_000;

interface Ran {
  readonly code: number;
  readonly output: string;
}

/** Runs one command with bash in `cwd`, stdout and stderr in one stream as the terminal would show them. */
function runStep(step: Step, cwd: string, bin: string): Promise<Ran> {
  return new Promise((done) => {
    execFile(
      'bash',
      ['-c', `{ ${step.command}\n} 2>&1`],
      {
        cwd,
        timeout: STEP_TIMEOUT_MS,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
        env: {
          ...process.env,
          PATH: `${bin}:${process.env.PATH ?? ''}`,
          NO_COLOR: '1',
          // Nothing a docs command runs may reach beyond this machine: npm stays offline, proxies lead nowhere.
          npm_config_offline: 'true',
          HTTP_PROXY: 'http://127.0.0.1:9',
          HTTPS_PROXY: 'http://127.0.0.1:9',
        },
      },
      (error, stdout) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        done({ code, output: stdout });
      },
    );
  });
}

describe.each(PAGES)('%s', (page) => {
  const markdown = readFileSync(join(ROOT, page), 'utf8');
  const blocks = fencedBlocks(markdown);
  const plans = plan(blocks, markdown);
  let dir = '';
  let bin = '';

  beforeAll(async () => {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'wire.cjs'))) throw new Error('dist/ is missing: run `npm run build` (npm test does)');
    // Each page runs in a directory of its own holding a copy of examples/, with `wire` on the PATH.
    dir = await mkdtemp(join(tmpdir(), 'wire-docs-'));
    await cp(join(ROOT, 'examples'), join(dir, 'examples'), { recursive: true });
    bin = join(dir, '.bin');
    await mkdir(bin);
    await writeFile(join(bin, 'wire'), `#!/bin/sh\nexec "${process.execPath}" "${join(ROOT, 'bin', 'wire.js')}" "$@"\n`);
    // `npx wire`, as in a checkout of the repository; npx never fetches anything here.
    await writeFile(join(bin, 'npx'), '#!/bin/sh\nif [ "$1" = wire ]; then shift; exec wire "$@"; fi\necho "docs test: only npx wire runs here" >&2\nexit 127\n');
    await Promise.all(['wire', 'npx'].map((name) => chmod(join(bin, name), 0o755)));
  });

  afterAll(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('has no block that is neither run nor marked illustrative', () => {
    const unmarked = plans.flatMap((p, i) => (p.kind === 'unmarked' ? [`${page}:${blocks[i]!.line}: ${p.reason}`] : []));
    expect(unmarked).toEqual([]);
  });

  const runnable = plans.flatMap((p, i) => (p.kind === 'run' ? [{ steps: p.steps, line: blocks[i]!.line }] : []));
  // Blocks of a page run in order in the same directory, as a reader would type them.
  it.each(runnable)(`${page}:$line runs as shown`, async ({ steps }) => {
    for (const step of steps) {
      const ran = await runStep(step, dir, bin);
      if (step.expected === undefined) {
        expect(ran.code, `$ ${step.command}\n${ran.output}`).toBe(0);
      } else if (!matchesOutput(step.expected, ran.output)) {
        // The same comparison, as a diff of the normalised texts.
        expect(`$ ${step.command}\n${normalise(ran.output)}`).toBe(`$ ${step.command}\n${normalise(step.expected)}`);
      }
    }
  });
});
