import { open, type FileHandle } from 'node:fs/promises';
import { writevSync } from 'node:fs';
import type { OpenFile, WriteNow } from '../../src/connectors/sinks/file.js';

/** The FileHandle methods a test can make fail; each fault is asked on every call (numbered from 1). */
export interface Faults {
  datasync?: (call: number) => Error | undefined;
  truncate?: (call: number) => Error | undefined;
  /** Asked for write and writev alike: `partial` writes that many bytes of the data first, then throws. */
  write?: (call: number) => { error: Error; partial?: number } | undefined;
}

/** A file opener that fails on command, with the number of calls made per method. */
export interface FaultyFile {
  readonly open: OpenFile;
  /** The sink's small appends (`fs.writevSync`), failing as `write` says. */
  readonly writeNow: WriteNow;
  readonly calls: { datasync: number; truncate: number; write: number };
}

export function eio(what: string): Error {
  return Object.assign(new Error(`EIO: i/o error, ${what}`), { code: 'EIO' });
}

/** `fs.promises.open` whose handles fail where `faults` say: a disk that fails on command. */
export function faultyFile(faults: Faults): FaultyFile {
  const calls = { datasync: 0, truncate: 0, write: 0 };
  const failWrite = async (handle: FileHandle, data: Uint8Array): Promise<void> => {
    const fault = faults.write?.(++calls.write);
    if (fault === undefined) return;
    if (fault.partial !== undefined) await handle.write(data, 0, Math.min(fault.partial, data.length));
    throw fault.error;
  };
  const wrap = (handle: FileHandle): FileHandle =>
    new Proxy(handle, {
      get(target, property) {
        if (property === 'datasync') {
          return async () => {
            const error = faults.datasync?.(++calls.datasync);
            if (error !== undefined) throw error;
            await target.datasync();
          };
        }
        if (property === 'truncate') {
          return async (length?: number) => {
            const error = faults.truncate?.(++calls.truncate);
            if (error !== undefined) throw error;
            await target.truncate(length);
          };
        }
        if (property === 'write') {
          return async (data: Uint8Array, offset = 0, length = data.length - offset) => {
            await failWrite(target, data.subarray(offset, offset + length));
            return target.write(data, offset, length);
          };
        }
        if (property === 'writev') {
          return async (chunks: Uint8Array[]) => {
            await failWrite(target, Buffer.concat(chunks));
            return target.writev(chunks);
          };
        }
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  const writeNow: WriteNow = (handle, chunks) => {
    const fault = faults.write?.(++calls.write);
    if (fault !== undefined) {
      if (fault.partial !== undefined) writevSync(handle.fd, [Buffer.concat(chunks).subarray(0, fault.partial)]);
      throw fault.error;
    }
    return writevSync(handle.fd, chunks as Uint8Array[]);
  };
  return { open: async (path, flags) => wrap(await open(path, flags)), writeNow, calls };
}
