// Runs the built `wire` on a pseudo-terminal (util-linux `script`), as a person at a terminal would, and returns
// everything written to that terminal: stdout and stderr together, escape sequences included.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './harness.js';

const children = new Set<ChildProcess>();

/** Single quotes for sh: nothing inside is special. */
const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * `wire ARGS` with stdin, stdout and stderr on one pseudo-terminal; `stdoutTo` redirects stdout to a file instead
 * (stderr stays on the terminal). Resolves with the exit code and the terminal's output.
 */
export async function runWireOnTerminal(
  args: readonly string[],
  options: { cwd: string; stdoutTo?: string; timeoutMs?: number },
): Promise<{ code: number | null; output: string }> {
  let command = [process.execPath, join(ROOT, 'bin', 'wire.js'), ...args].map(quote).join(' ');
  if (options.stdoutTo !== undefined) command += ` > ${quote(options.stdoutTo)}`;
  // -e: script exits with the command's code; -q: no "Script started" banner; /dev/null: no typescript file.
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  let timer: NodeJS.Timeout | undefined;
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`wire ${args.join(' ')} on a terminal did not exit in time; output: ${output.slice(-2000)}`));
      }, options.timeoutMs ?? 60_000);
      child.once('error', reject);
      child.once('close', (exitCode) => resolve(exitCode));
    });
    return { code, output };
  } finally {
    clearTimeout(timer);
    children.delete(child);
  }
}

/** Kills any `script` still running (its terminal's hang-up ends the `wire` inside). */
export async function killTerminals(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise((resolve) => {
          child.once('close', resolve);
          child.kill('SIGKILL');
        }),
    ),
  );
  children.clear();
}
