/**
 * A token kept in a file readable by its owner only (0600): a node's first-start `admin.token`. Written to a
 * temporary file (created 0600, so the secret is never readable by others, not even for a moment), synced, then
 * renamed into place: a crash leaves the whole file or none.
 */
import { open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { WireError } from '../core/errors.js';

export const ADMIN_TOKEN_FILE = 'admin.token';

/** The token in `file`, or undefined when there is no such file. */
export async function readTokenFile(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new WireError('UNAVAILABLE', `cannot read the token file ${file}: ${(error as Error).message}`, { path: file }, error);
  }
}

export async function writeTokenFile(file: string, token: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    // Created here, never reused: a file someone else made first (with wider permissions) is not written into.
    await rm(tmp, { force: true });
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(`${token}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
    const dir = await open(path.dirname(file), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (error) {
    await rm(tmp, { force: true });
    throw new WireError('UNAVAILABLE', `cannot write the token file ${file}: ${(error as Error).message}`, { path: file }, error);
  }
}
