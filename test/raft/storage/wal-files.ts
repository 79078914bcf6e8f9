/** Test helpers: temp dirs, entries, and the raw records of WAL segment files (to tear or corrupt them). */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENTRY_CONF_CHANGE, ENTRY_NORMAL, type Entry } from '../../../src/raft/core/types.js';
import { readFrame } from '../../../src/raft/storage/wal-record.js';
import { openDiskStorage, type DiskStorage, type DiskStorageOptions } from '../../../src/raft/storage/disk-storage.js';
import { WalStore, type WalStoreOptions } from '../../../src/raft/storage/wal-store.js';
import { afterEach, beforeEach } from 'vitest';

export const entry = (index: number, term: number, text = `e${index}`): Entry => ({
  index,
  term,
  type: index % 7 === 0 ? ENTRY_CONF_CHANGE : ENTRY_NORMAL,
  data: new TextEncoder().encode(text),
});
export const range = (lo: number, hi: number, term: number): Entry[] => Array.from({ length: hi - lo + 1 }, (_, i) => entry(lo + i, term));
export const text = (e: Entry): string => new TextDecoder().decode(e.data);

export const tempDir = (): Promise<string> => mkdtemp(join(tmpdir(), 'wire-wal-'));

/** A temp dir per test and the one store open in it: after each test the store is closed and the dir removed. */
function perTest<S extends { close(): Promise<void> }>(): {
  readonly dir: string;
  readonly store: S | undefined;
  replace(open: () => Promise<S>): Promise<S>;
  close(): Promise<void>;
} {
  let dir = '';
  let store: S | undefined;
  const close = async (): Promise<void> => {
    await store?.close();
    store = undefined;
  };
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await close();
    await rm(dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return dir;
    },
    get store() {
      return store;
    },
    async replace(open) {
      await close();
      store = await open();
      return store;
    },
    close,
  };
}

/**
 * A temp dir per test with a WalStore on it: `reopen` closes the store and opens it again, `close` closes it;
 * after each test the store is closed and the dir removed. Call inside a `describe`.
 */
export function walFixture(defaults: WalStoreOptions = {}): {
  readonly dir: string;
  readonly store: WalStore | undefined;
  reopen(options?: WalStoreOptions): Promise<WalStore>;
  close(): Promise<void>;
} {
  const t = perTest<WalStore>();
  return {
    get dir() {
      return t.dir;
    },
    get store() {
      return t.store;
    },
    reopen: (options = defaults) => t.replace(() => WalStore.open(t.dir, options)),
    close: t.close,
  };
}

/**
 * A temp dir per test (`root`) for `openDiskStorage`: `open` closes the storage it opened before and
 * opens one at `dir`; after each test the storage is closed and the dir removed. Call inside a `describe`.
 */
export function diskFixture(): {
  readonly root: string;
  open(dir: string, options?: DiskStorageOptions): Promise<DiskStorage>;
  close(): Promise<void>;
} {
  const t = perTest<DiskStorage>();
  return {
    get root() {
      return t.dir;
    },
    open: (dir, options) => t.replace(() => openDiskStorage(dir, options)),
    close: t.close,
  };
}

/** Segment file paths in `dir`, oldest first. */
export async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort().map((n) => join(dir, n));
}

export interface RawRecord {
  readonly offset: number;
  readonly end: number;
  readonly type: number;
  readonly afterSync: boolean;
}

/** The verified records of a segment file, up to the first that fails (or the zeros after the last). */
export async function rawRecords(path: string): Promise<RawRecord[]> {
  const buf = await readFile(path);
  const out: RawRecord[] = [];
  for (let at = 0; at < buf.length; ) {
    const f = readFrame(buf, at);
    if (!f.ok) break;
    out.push({ offset: at, end: f.end, type: f.type, afterSync: f.afterSync });
    at = f.end;
  }
  return out;
}

/**
 * The segment files as a power loss would leave them right now (take it once the writes to keep have
 * resolved): `restore` puts them back after the store is closed, dropping what closing wrote.
 */
export async function crashImage(dir: string): Promise<{ restore(): Promise<void> }> {
  const files = new Map<string, Buffer>();
  for (const file of await segmentFiles(dir)) files.set(file, await readFile(file));
  return {
    async restore() {
      for (const file of await segmentFiles(dir)) await rm(file);
      for (const [file, bytes] of files) await writeFile(file, bytes);
    },
  };
}

/** Flips bits of byte `at` of `file`. */
export async function flipByte(file: string, at: number, mask = 0xff): Promise<void> {
  const bytes = await readFile(file);
  bytes[at]! ^= mask;
  await writeFile(file, bytes);
}
