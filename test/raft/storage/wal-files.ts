/** Test helpers: temp dirs, entries, and the raw records of WAL segment files (to tear or corrupt them). */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENTRY_CONF_CHANGE, ENTRY_NORMAL, type Entry } from '../../../src/raft/core/types.js';
import { readFrame } from '../../../src/raft/storage/wal-record.js';
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
  let dir = '';
  let store: WalStore | undefined;
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
    async reopen(options = defaults) {
      await close();
      store = await WalStore.open(dir, options);
      return store;
    },
    close,
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
