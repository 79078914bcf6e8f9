import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { constants } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/** The largest secret file read: a key or a password, not a data file named by mistake. */
export const MAX_SECRET_BYTES = 64 * 1024;

/** What `${file:PATH}` reads: the file's text, or why it cannot be had (never its content). */
export type SecretFileReader = (path: string) => { readonly value: string } | { readonly problem: string };

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
};

function reason(err: unknown): string {
  return REASONS[(err as NodeJS.ErrnoException).code ?? ''] ?? (err as Error).message;
}

/**
 * Reads secret files from disk, relative paths against `baseDir` (the pipeline file's directory). Only regular
 * files of at most MAX_SECRET_BYTES of UTF-8: a FIFO or a device (`/dev/zero`) would block or never end.
 * Trailing line breaks are dropped, as `$(cat FILE)` drops them.
 */
export function secretFileReader(baseDir: string): SecretFileReader {
  return (path) => {
    const full = isAbsolute(path) ? path : resolve(baseDir, path);
    const fail = (why: string): { problem: string } => ({ problem: `cannot read secret file '${path}': ${why}` });
    let fd: number;
    try {
      // O_NONBLOCK: opening a FIFO with no writer must not wait; the type check below refuses it.
      fd = openSync(full, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (err) {
      return fail(reason(err));
    }
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) return fail(stat.isDirectory() ? 'it is a directory' : 'it is not a regular file');
      if (stat.size > MAX_SECRET_BYTES) return fail(`it holds ${stat.size} bytes, more than the ${MAX_SECRET_BYTES} a secret file may`);
      const buffer = Buffer.alloc(stat.size);
      let read = 0;
      while (read < buffer.length) {
        const n = readSync(fd, buffer, read, buffer.length - read, read);
        if (n === 0) break;
        read += n;
      }
      const bytes = buffer.subarray(0, read);
      if (!isUtf8(bytes)) return fail('it is not UTF-8 text');
      return { value: bytes.toString('utf8').replace(/[\r\n]+$/, '') };
    } catch (err) {
      return fail(reason(err));
    } finally {
      closeSync(fd);
    }
  };
}
