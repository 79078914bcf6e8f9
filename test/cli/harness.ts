// Spawns the real `wire` command for end-to-end tests and cleans up after it: every child is killed
// and every temp dir removed, whatever the test's outcome (call `cleanup()` in afterEach).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const BIN = join(ROOT, 'bin', 'wire.js');
const MAIN_TS = join(ROOT, 'src', 'cli', 'main.ts');
const TSX_LOADER = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/**
 * `node bin/wire.js` (the built CLI, as users run it). WIRE_E2E_SOURCE=1 runs src/cli/main.ts through
 * tsx instead, for working on the CLI before the whole tree builds.
 */
function wireCommand(): string[] {
  return process.env.WIRE_E2E_SOURCE === '1' ? ['--import', TSX_LOADER, MAIN_TS] : [BIN];
}

export interface WireProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code and signal; rejects (after SIGKILL) when the child outlives `timeoutMs`. */
  exited(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface Result {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

export async function makeTempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'wire-cli-test-'));
  tempDirs.add(dir);
  return dir;
}

/** `input`, when given, is written to the child's stdin, which then ends. */
export function startWire(args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string }): WireProcess {
  const child = spawn(process.execPath, [...wireCommand(), ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  if (options.input !== undefined) {
    // A child that exits without reading all its input closes the pipe: what it did is what the test checks.
    child.stdin!.on('error', () => {});
    child.stdin!.end(options.input);
  }
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveClose, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      children.delete(child);
      resolveClose({ code, signal });
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited: async (timeoutMs) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`wire ${args.join(' ')} did not exit within ${timeoutMs} ms\nstderr: ${stderr.slice(-2000)}`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([closed, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Runs `wire ARGS` to completion (bounded by `timeoutMs`). */
export async function runWire(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string },
): Promise<Result> {
  const wire = startWire(args, options);
  const { code, signal } = await wire.exited(options.timeoutMs ?? 30_000);
  return { code, signal, stdout: wire.stdout(), stderr: wire.stderr() };
}

/** Polls `check` every `intervalMs` until it returns true; throws after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

export function exists(path: string): boolean {
  return existsSync(path);
}

/** Kills every child still running and removes every temp dir made since the last cleanup. */
export async function cleanup(): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const child of children) {
    waits.push(new Promise((r) => child.once('close', r)));
    child.kill('SIGKILL');
  }
  await Promise.all(waits);
  children.clear();
  await Promise.all([...tempDirs].map((dir) => rm(dir, { recursive: true, force: true })));
  tempDirs.clear();
}
