/**
 * A simulated disk behind the production `StorageFs` port. Writes land in the page cache (what reads
 * see) and become durable only once an fsync issued after them completes; so do directory entries
 * (files created, renamed, deleted, directories made), once their directory is fsynced.
 *
 * At a power loss each file keeps its durable bytes plus a prefix of its unsynced writes, and the next
 * one may be torn: the disk writes whole 512-byte sectors atomically (as the WAL's recovery assumes),
 * so a torn write keeps the sectors before a sector boundary inside it, the rest as it was. Each
 * directory keeps a prefix of its unsynced changes. Every fsync takes a random time in [fsyncMin, fsyncMax] ms of simulated time.
 * `flipBit` corrupts durable data, as a failing sector would.
 *
 * A power loss ends an incarnation: the handles and views of the old one never answer again (the
 * process that held them is gone), so nothing it had in flight can land after the crash.
 */
import { TEMP_PREFIX } from '../../src/raft/snapshot/snapshot-files.js';
import type { StorageFs, OpenFlags, StorageFile } from '../../src/raft/storage/storage-fs.js';
import type { EventQueue } from './clock.js';
import type { Prng } from './prng.js';

interface Inode {
  /** What reads see (the page cache). */
  data: Buffer;
  /** What survives a power loss. */
  durable: Buffer;
  /** Writes and truncations not yet durable, oldest first. */
  pending: FileChange[];
}

type FileChange = { readonly at: number; readonly bytes: Buffer } | { readonly truncate: number };

/** The unit a disk writes atomically: a write is torn only at a boundary between two sectors. */
export const SECTOR_BYTES = 512;

const DIR = 'dir' as const;
type Entry = Inode | typeof DIR;

interface Directory {
  entries: Map<string, Entry>;
  durable: Map<string, Entry>;
  /** Unsynced changes, oldest first; each is applied atomically (a rename is one). */
  pending: [string, Entry | undefined][][];
}

export interface PowerLossReport {
  /** Unsynced writes lost, over every file. */
  readonly lost: number;
  /** Unsynced writes that reached the platter anyway. */
  readonly survived: number;
  readonly torn: boolean;
}

function fsError(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${path}`), { code });
}

function split(path: string): [string, string] {
  const i = path.lastIndexOf('/');
  return [i <= 0 ? '/' : path.slice(0, i), path.slice(i + 1)];
}

function applyChange(buf: Buffer, change: FileChange): Buffer {
  if ('truncate' in change) {
    if (change.truncate <= buf.length) return buf.subarray(0, change.truncate);
    return Buffer.concat([buf, Buffer.alloc(change.truncate - buf.length)]);
  }
  const end = change.at + change.bytes.length;
  const out = end > buf.length ? Buffer.concat([buf, Buffer.alloc(end - buf.length)]) : buf;
  change.bytes.copy(out, change.at);
  return out;
}

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

export class SimDisk {
  private readonly dirs = new Map<string, Directory>([['/', { entries: new Map(), durable: new Map(), pending: [] }]]);
  /** Bumped at every power loss: views and handles of earlier incarnations stop answering. */
  private generation = 0;
  fsyncMin = 0;
  fsyncMax = 1;
  syncs = 0;
  /** Called once when the next fsync starts (the nemesis cuts the power then, with writes in flight). */
  onNextSync: (() => void) | undefined;

  constructor(
    private readonly queue: EventQueue,
    private readonly prng: Prng,
  ) {}

  /** The file system of the current incarnation of the node that owns this disk. */
  view(): StorageFs {
    return new SimFileSystem(this, this.generation);
  }

  alive(generation: number): boolean {
    return generation === this.generation;
  }

  /** Power loss: unsynced writes and directory changes are lost but for a random prefix; the next may be torn. */
  powerLoss(tearProbability: number): PowerLossReport {
    this.generation++;
    let lost = 0;
    let survived = 0;
    let torn = false;
    const inodes = new Set<Inode>();
    for (const d of this.dirs.values()) {
      const keep = this.prng.int(d.pending.length + 1);
      const entries = new Map(d.durable);
      for (const change of d.pending.slice(0, keep)) for (const [name, e] of change) if (e === undefined) entries.delete(name); else entries.set(name, e);
      d.entries = entries;
      d.durable = new Map(entries);
      d.pending = [];
      for (const e of [...entries.values(), ...d.entries.values()]) if (e !== DIR) inodes.add(e);
    }
    for (const f of inodes) {
      if (f.pending.length === 0) {
        f.data = Buffer.from(f.durable);
        continue;
      }
      const keep = this.prng.int(f.pending.length + 1);
      let data = f.durable;
      for (const c of f.pending.slice(0, keep)) data = applyChange(Buffer.from(data), c);
      const next = f.pending[keep];
      if (next !== undefined && 'bytes' in next && this.prng.chance(tearProbability)) {
        // Sector boundaries strictly inside the write: it may be cut at one of them.
        const first = Math.floor(next.at / SECTOR_BYTES) * SECTOR_BYTES + SECTOR_BYTES;
        const end = next.at + next.bytes.length;
        if (first < end) {
          const cut = first + this.prng.int(Math.ceil((end - first) / SECTOR_BYTES)) * SECTOR_BYTES;
          data = applyChange(Buffer.from(data), { at: next.at, bytes: next.bytes.subarray(0, cut - next.at) });
          torn = true;
        }
      }
      survived += keep;
      lost += f.pending.length - keep;
      f.durable = data;
      f.data = Buffer.from(data);
      f.pending = [];
    }
    // Directories whose own entry did not survive are gone, with everything in them.
    for (const path of [...this.dirs.keys()].sort((a, b) => a.length - b.length)) {
      if (path === '/') continue;
      const [parent, name] = split(path);
      if (this.dirs.get(parent)?.entries.get(name) !== DIR) this.dirs.delete(path);
    }
    return { lost, survived, torn };
  }

  /**
   * Flips one bit of durable data in a random non-empty file other than a temporary one (in the page
   * cache too, as a re-read would show). Returns the file's path, or undefined when there is none.
   */
  flipBit(): string | undefined {
    const files: [string, Inode][] = [];
    for (const [dir, d] of [...this.dirs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      for (const [name, e] of [...d.durable].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
        // Temporary snapshot files have random names (and are garbage after a crash): choosing among them would make a replay differ.
        if (e !== DIR && e.durable.length > 0 && !name.startsWith(TEMP_PREFIX)) files.push([`${dir}/${name}`, e]);
      }
    }
    if (files.length === 0) return undefined;
    const [path, f] = this.prng.pick(files);
    const at = this.prng.int(f.durable.length);
    const bit = 1 << this.prng.int(8);
    f.durable[at] = f.durable[at]! ^ bit;
    if (at < f.data.length) f.data[at] = f.data[at]! ^ bit;
    return `${path} byte ${at}`;
  }

  // --- used by the views ---

  dir(path: string): Directory {
    const d = this.dirs.get(path);
    if (d === undefined) throw fsError('ENOENT', path);
    return d;
  }

  lookup(path: string): Entry | undefined {
    const [parent, name] = split(path);
    return this.dirs.get(parent)?.entries.get(name);
  }

  change(dir: string, changes: [string, Entry | undefined][]): void {
    const d = this.dir(dir);
    for (const [name, e] of changes) if (e === undefined) d.entries.delete(name); else d.entries.set(name, e);
    d.pending.push(changes);
  }

  /** Creates `path` and its missing parents; returns the first directory created, if any. */
  mkdirp(path: string): string | undefined {
    if (path === '/' || this.dirs.has(path)) return undefined;
    const [parent, name] = split(path);
    const first = this.mkdirp(parent);
    if (this.lookup(path) !== undefined) throw fsError('EEXIST', path);
    this.dirs.set(path, { entries: new Map(), durable: new Map(), pending: [] });
    this.change(parent, [[name, DIR]]);
    return first ?? path;
  }

  /** Completes an fsync after a simulated delay; what it covers is what was written before it was called. */
  sync(generation: number, covered: () => void): Promise<void> {
    this.syncs++;
    const hook = this.onNextSync;
    if (hook !== undefined) {
      this.onNextSync = undefined;
      this.queue.schedule(0, hook);
    }
    return new Promise((resolve) => {
      this.queue.schedule(this.prng.range(this.fsyncMin, this.fsyncMax), () => {
        if (!this.alive(generation)) return;
        covered();
        resolve();
      });
    });
  }
}

/** Makes the first `count` pending changes of a file durable. */
function syncFile(f: Inode, count: number): void {
  let data = f.durable;
  for (const c of f.pending.slice(0, count)) data = applyChange(Buffer.from(data), c);
  f.durable = data;
  f.pending = f.pending.slice(count);
}

function syncDirectory(d: Directory, count: number): void {
  for (const change of d.pending.slice(0, count)) for (const [name, e] of change) if (e === undefined) d.durable.delete(name); else d.durable.set(name, e);
  d.pending = d.pending.slice(count);
}

class SimFile implements StorageFile {
  private closed = false;

  constructor(
    private readonly disk: SimDisk,
    private readonly generation: number,
    private readonly inode: Inode,
    private readonly writable: boolean,
    private readonly path: string,
  ) {}

  private usable(): boolean {
    if (this.closed) throw fsError('EBADF', this.path);
    return this.disk.alive(this.generation);
  }

  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    if (!this.usable()) return never();
    if (!this.writable) throw fsError('EBADF', this.path);
    const change = { at: position, bytes: Buffer.from(buffer.subarray(offset, offset + length)) };
    this.inode.data = applyChange(this.inode.data, change);
    this.inode.pending.push(change);
    return Promise.resolve({ bytesWritten: length });
  }

  /** Modelled as a write and an fdatasync of everything pending (the WAL calls it with nothing else pending). */
  async writeDurable(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    const written = await this.write(buffer, offset, length, position);
    await this.datasync();
    return written;
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    if (!this.usable()) return never();
    return Promise.resolve({ bytesRead: this.readSync(buffer, offset, length, position) });
  }

  readSync(buffer: Uint8Array, offset: number, length: number, position: number): number {
    if (!this.usable()) throw fsError('EIO', `${this.path} (a read after the power loss)`);
    const src = this.inode.data.subarray(position, position + length);
    buffer.set(src, offset);
    return src.length;
  }

  datasync(): Promise<void> {
    if (!this.usable()) return never();
    const count = this.inode.pending.length;
    return this.disk.sync(this.generation, () => syncFile(this.inode, count));
  }

  sync(): Promise<void> {
    return this.datasync();
  }

  size(): Promise<number> {
    if (!this.usable()) return never();
    return Promise.resolve(this.inode.data.length);
  }

  close(): Promise<void> {
    if (!this.usable()) return never();
    this.closed = true;
    return Promise.resolve();
  }
}

class SimFileSystem implements StorageFs {
  constructor(
    private readonly disk: SimDisk,
    private readonly generation: number,
  ) {}

  /** Runs `op` now if this incarnation is alive; a dead one's calls never return. */
  private run<T>(op: () => T): Promise<T> {
    if (!this.disk.alive(this.generation)) return never();
    try {
      return Promise.resolve(op());
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  open(path: string, flags: OpenFlags): Promise<StorageFile> {
    return this.run(() => {
      const existing = this.disk.lookup(path);
      if (existing === DIR) throw fsError('EISDIR', path);
      if ((flags === 'wx' || flags === 'wx+') && existing !== undefined) throw fsError('EEXIST', path);
      let inode = existing;
      if (inode === undefined) {
        if (flags === 'r' || flags === 'r+') throw fsError('ENOENT', path);
        inode = { data: Buffer.alloc(0), durable: Buffer.alloc(0), pending: [] };
        const [dir, name] = split(path);
        this.disk.change(dir, [[name, inode]]);
      } else if (flags === 'w') {
        const change = { truncate: 0 };
        inode.data = applyChange(inode.data, change);
        inode.pending.push(change);
      }
      return new SimFile(this.disk, this.generation, inode, flags !== 'r', path);
    });
  }

  readFile(path: string): Promise<Buffer> {
    return this.run(() => {
      const e = this.disk.lookup(path);
      if (e === undefined) throw fsError('ENOENT', path);
      if (e === DIR) throw fsError('EISDIR', path);
      return Buffer.from(e.data);
    });
  }

  readdir(dir: string): Promise<string[]> {
    return this.run(() => [...this.disk.dir(dir).entries.keys()].sort());
  }

  mkdirp(dir: string): Promise<string | undefined> {
    return this.run(() => this.disk.mkdirp(dir));
  }

  rm(path: string, options?: { force?: boolean }): Promise<void> {
    return this.run(() => {
      const e = this.disk.lookup(path);
      if (e === undefined) {
        if (options?.force === true) return;
        throw fsError('ENOENT', path);
      }
      if (e === DIR) throw fsError('EISDIR', path);
      const [dir, name] = split(path);
      this.disk.change(dir, [[name, undefined]]);
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.run(() => {
      const e = this.disk.lookup(from);
      if (e === undefined) throw fsError('ENOENT', from);
      const [dir, fromName] = split(from);
      const [toDir, toName] = split(to);
      if (dir !== toDir) throw fsError('EXDEV', `${from} -> ${to} (the simulated disk renames within a directory)`);
      this.disk.change(dir, [
        [fromName, undefined],
        [toName, e],
      ]);
    });
  }

  truncate(path: string, length: number): Promise<void> {
    return this.run(() => {
      const e = this.disk.lookup(path);
      if (e === undefined) throw fsError('ENOENT', path);
      if (e === DIR) throw fsError('EISDIR', path);
      const change = { truncate: length };
      e.data = applyChange(e.data, change);
      e.pending.push(change);
    });
  }

  exists(path: string): Promise<boolean> {
    return this.run(() => this.disk.lookup(path) !== undefined || path === '/');
  }

  fsyncDir(dir: string): Promise<void> {
    if (!this.disk.alive(this.generation)) return never();
    let d: Directory;
    try {
      d = this.disk.dir(dir);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const count = d.pending.length;
    return this.disk.sync(this.generation, () => syncDirectory(d, count));
  }
}
