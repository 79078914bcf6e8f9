/**
 * `mkdir -p`, one level at a time. Node 20's recursive mkdir (async and sync) never settles on some
 * paths — a missing directory under /proc spins a thread-pool thread forever, which also keeps the
 * process from exiting — so every directory Wire creates for a user's path goes through here.
 * Errors are the file system's own (ENOENT, EACCES, ENOTDIR…), for the caller to wrap.
 */
import { mkdirSync, statSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/** The directories from the top missing one down to `dir`, as the file system answers now. */
async function missingDirs(dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    if ((await stat(d).catch(() => undefined)) !== undefined) break;
    missing.push(d);
    if (dirname(d) === d) break;
  }
  return missing.reverse();
}

function missingDirsSync(dir: string): string[] {
  const missing: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (statSync(d, { throwIfNoEntry: false }) !== undefined) break;
    missing.push(d);
    if (dirname(d) === d) break;
  }
  return missing.reverse();
}

const raceLost = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'EEXIST';

/** Creates `dir` and its missing parents; resolves to the first directory it created, if any (as `mkdir -p` would). */
export async function makeDirs(dir: string): Promise<string | undefined> {
  const missing = await missingDirs(dir);
  for (const d of missing) {
    await mkdir(d).catch((err: unknown) => {
      if (!raceLost(err)) throw err;
    });
  }
  return missing[0];
}

/** `makeDirs`, synchronously. */
export function makeDirsSync(dir: string): string | undefined {
  const missing = missingDirsSync(dir);
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      if (!raceLost(err)) throw err;
    }
  }
  return missing[0];
}
