/**
 * The write-ahead log's files: `<seq as 16 hex digits>.wal` in one directory, numbered upwards from 1
 * with no gaps. Each segment keeps one open handle for its lifetime: the writer appends to the newest,
 * and the store reads older entries from any of them with positioned synchronous reads.
 * `size` is where the records end; `allocated` is the file's length (zeros written ahead of the log).
 */
import { join } from 'node:path';
import { CorruptStorageError } from '../errors.js';
import type { StorageFs, StorageFile } from './storage-fs.js';

const NAME = /^([0-9a-f]{16})\.wal$/;

export const segmentPath = (dir: string, seq: number): string => join(dir, `${seq.toString(16).padStart(16, '0')}.wal`);

/** Sequence numbers of the segments in `dir`, ascending (other files are ignored). */
export async function listSegments(fs: StorageFs, dir: string): Promise<number[]> {
  const seqs: number[] = [];
  for (const name of await fs.readdir(dir)) {
    const m = NAME.exec(name);
    if (m) seqs.push(Number.parseInt(m[1]!, 16));
  }
  return seqs.sort((a, b) => a - b);
}

export class Segment {
  private constructor(
    readonly seq: number,
    readonly path: string,
    readonly handle: StorageFile,
    public size: number,
    public allocated: number,
  ) {}

  /** Opens an existing segment whose records end at `size`. */
  static async open(fs: StorageFs, dir: string, seq: number, size: number): Promise<Segment> {
    const path = segmentPath(dir, seq);
    const handle = await fs.open(path, 'r+');
    try {
      const allocated = await handle.size();
      return new Segment(seq, path, handle, size, allocated);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Creates a new, empty segment (failing if the file exists). */
  static async create(fs: StorageFs, dir: string, seq: number): Promise<Segment> {
    const path = segmentPath(dir, seq);
    return new Segment(seq, path, await fs.open(path, 'wx+'), 0, 0);
  }

  /** Reads `length` bytes at `offset`, synchronously (the log store's reads are synchronous). */
  read(offset: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    const n = this.handle.readSync(buf, 0, length, offset);
    if (n !== length) throw new CorruptStorageError(`WAL segment ${this.path}: ${n} of ${length} bytes at ${offset}`);
    return buf;
  }
}
