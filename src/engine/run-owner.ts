import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * The process a pipeline's run belongs to, kept in the data dir while it runs: a second run of the same pipeline on
 * the same data dir would write its output again beside the first (both resume from the same checkpoint).
 */
export interface RunOwner {
  readonly pid: number;
  readonly host: string;
  /** The kernel's start time of the process (Linux), so a pid reused after a kill -9 is not taken for the run. */
  readonly started?: string;
  readonly since: number;
}

function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the command name, which is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function currentOwner(now: number): RunOwner {
  const started = startTimeOf(process.pid);
  return { pid: process.pid, host: hostname(), ...(started === undefined ? {} : { started }), since: now };
}

export function isRunOwner(value: unknown): value is RunOwner {
  if (typeof value !== 'object' || value === null) return false;
  const { pid, host, since } = value as Partial<RunOwner>;
  return Number.isSafeInteger(pid) && typeof host === 'string' && typeof since === 'number';
}

/**
 * Whether the run that claimed a pipeline may still be running. A process on another host cannot be looked at, so
 * it counts as running; on this host, a dead pid (a run killed with kill -9) or one now held by another process
 * does not.
 */
export function isRunning(owner: RunOwner): boolean {
  if (owner.host !== hostname()) return true;
  if (owner.pid === process.pid) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (owner.started === undefined) return true;
  const started = startTimeOf(owner.pid);
  return started === undefined || started === owner.started;
}
