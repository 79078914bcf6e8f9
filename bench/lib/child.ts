// Runs one benchmark program as a child process, bounded by a timeout, and measures it:
// wall time, exit code, output, and peak RSS (GNU time's %M when installed, else what the child reports).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly wallSeconds: number;
  /** Peak resident set size in MB from GNU time, or undefined when it is not installed. */
  readonly timeRssMb: number | undefined;
}

const GNU_TIME = '/usr/bin/time';

export async function runChild(
  command: string,
  args: readonly string[],
  options: { cwd: string; tmpDir: string; timeoutMs: number; label: string },
): Promise<ChildResult> {
  const useTime = existsSync(GNU_TIME);
  const rssFile = join(options.tmpDir, `${options.label}.rss`);
  const argv = useTime ? ['-f', '%M', '-o', rssFile, command, ...args] : [...args];
  const started = process.hrtime.bigint();
  const child = spawn(useTime ? GNU_TIME : command, argv, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c, s) => resolve([c, s]));
    });
    const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    let timeRssMb: number | undefined;
    if (useTime && existsSync(rssFile)) {
      const kb = Number((await readFile(rssFile, 'utf8')).trim().split('\n').pop());
      if (Number.isFinite(kb)) timeRssMb = Math.round(kb / 1024);
    }
    return { code, signal, stdout, stderr, wallSeconds, timeRssMb };
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await rm(rssFile, { force: true });
  }
}

/** The JSON objects among a child's output lines (other lines are ignored). */
export function jsonLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line that only looks like JSON (a log line cut short) is not a report.
    }
  }
  return out;
}
