/**
 * The Raft log in LMDB. Entries live in the `log` sub-database keyed by index; the compaction point
 * lives in `meta`. All writes of one call are issued in the same event-loop turn, so lmdb-js commits
 * them in one transaction together with anything else written in that turn (the hard state: group
 * commit), and resolves after the fsync, which runs on lmdb-js's write thread, never the event loop.
 */
import type { Database, RootDatabase } from 'lmdb';
import type { Entry } from '../core/types.js';
import type { LogStore } from '../ports.js';
import { CorruptStorageError, RaftError } from '../errors.js';
import { EntryCache } from './entry-cache.js';
import { decodeEntry, decodeMeta, encodeEntry, encodeMeta } from './record-codec.js';

const COMPACTED_KEY = 'compacted';

export interface LogStoreOptions {
  /** Most entries kept decoded in memory (default 10,000). */
  cacheEntries?: number;
  /** Most bytes of entry data kept decoded in memory (default 64 MiB). */
  cacheBytes?: number;
}

export interface LogOpenReport {
  /** Entries dropped on open because they failed their checksum or followed one that did. */
  truncated: number;
}

export class LmdbLogStore implements LogStore {
  private snapIndex: number;
  private snapTerm: number;
  private last: number;
  private inFlight = 0;
  private closed = false;

  private constructor(
    private readonly log: Database<Buffer, number>,
    private readonly meta: Database<Buffer, string>,
    snap: { index: number; term: number },
    last: number,
    private readonly cache: EntryCache,
    readonly openReport: LogOpenReport,
  ) {
    this.snapIndex = snap.index;
    this.snapTerm = snap.term;
    this.last = last;
  }

  /**
   * Opens the log in `root`, verifying every stored record: the first corrupt, misplaced or
   * out-of-sequence entry and everything after it are deleted before this resolves.
   */
  static open(root: RootDatabase, options: LogStoreOptions = {}): LmdbLogStore {
    const log = root.openDB<Buffer, number>({ name: 'log', encoding: 'binary' });
    const meta = root.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' });
    const snap = readCompacted(meta);
    const cache = new EntryCache(snap.index + 1, options.cacheEntries ?? 10_000, options.cacheBytes ?? 64 * 1024 * 1024);
    let expected = snap.index + 1;
    let prevTerm = snap.term;
    let bad = false;
    const stale: number[] = [];
    const tail: Entry[] = [];
    for (const { key, value } of log.getRange({})) {
      if (key <= snap.index) {
        stale.push(key); // left over from a compaction interrupted before these existed durably
        continue;
      }
      const entry = bad ? undefined : decodeEntry(value, key);
      if (!entry || key !== expected || entry.term < prevTerm) bad = true;
      if (bad || !entry) {
        stale.push(key);
        continue;
      }
      tail.push(entry);
      expected++;
      prevTerm = entry.term;
      if (tail.length > 2 * (options.cacheEntries ?? 10_000)) tail.splice(0, tail.length >> 1);
    }
    const truncated = stale.filter((k) => k > snap.index).length;
    if (stale.length > 0) {
      log.transactionSync(() => {
        for (const key of stale) log.removeSync(key);
      });
    }
    if (tail.length > 0) cache.append(tail);
    cache.evict();
    return new LmdbLogStore(log, meta, snap, expected - 1, cache, { truncated });
  }

  firstIndex(): number {
    return this.snapIndex + 1;
  }

  lastIndex(): number {
    return this.last;
  }

  term(index: number): number | undefined {
    if (index === this.snapIndex) return this.snapTerm;
    return this.entry(index)?.term;
  }

  entries(lo: number, hi: number, maxBytes = Number.POSITIVE_INFINITY): Entry[] {
    if (lo <= this.snapIndex) throw new RaftError('INVALID_ARGUMENT', `entries(${lo}) compacted (first index ${this.firstIndex()})`);
    if (hi > this.last + 1) throw new RaftError('INVALID_ARGUMENT', `entries(${lo}, ${hi}) beyond last index ${this.last}`);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.entry(i);
      if (!e) throw new CorruptStorageError(`log entry ${i} missing or corrupt`);
      bytes += e.data.length;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  append(entries: readonly Entry[]): Promise<void> {
    this.assertOpen();
    const first = entries[0];
    if (!first) return Promise.resolve();
    if (first.index <= this.snapIndex || first.index > this.last + 1) {
      return Promise.reject(new RaftError('INVALID_ARGUMENT', `append at ${first.index} leaves a gap or rewrites compacted entries (log ${this.firstIndex()}..${this.last})`));
    }
    for (let i = first.index; i <= this.last; i++) void this.log.remove(i);
    let written: Promise<boolean> | undefined;
    for (const e of entries) written = this.log.put(e.index, encodeEntry(e));
    this.cache.append(entries);
    this.last = first.index + entries.length - 1;
    return this.track(written);
  }

  compact(index: number, term: number): Promise<void> {
    this.assertOpen();
    if (index <= this.snapIndex) return Promise.resolve();
    if (index >= this.last) return this.reset(index, term);
    for (let i = this.snapIndex + 1; i <= index; i++) void this.log.remove(i);
    const written = this.meta.put(COMPACTED_KEY, encodeMeta({ index, term }));
    this.snapIndex = index;
    this.snapTerm = term;
    this.cache.dropThrough(index);
    return this.track(written);
  }

  reset(index: number, term: number): Promise<void> {
    this.assertOpen();
    for (let i = this.snapIndex + 1; i <= this.last; i++) void this.log.remove(i);
    const written = this.meta.put(COMPACTED_KEY, encodeMeta({ index, term }));
    this.snapIndex = index;
    this.snapTerm = term;
    this.last = index;
    this.cache.clear(index + 1);
    return this.track(written);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.log.flushed;
  }

  private entry(index: number): Entry | undefined {
    if (index <= this.snapIndex || index > this.last) return undefined;
    if (index >= this.cache.first) return this.cache.get(index);
    // Older than the cache: durable (the cache only evicts once everything is), so read it from disk.
    const record = this.log.get(index);
    return record ? decodeEntry(record, index) : undefined;
  }

  private async track(written: Promise<boolean> | undefined): Promise<void> {
    this.inFlight++;
    try {
      await written;
    } finally {
      this.inFlight--;
      // Evict only when no write is pending, so every entry left outside the cache is on disk.
      if (this.inFlight === 0) this.cache.evict();
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new RaftError('INVALID_ARGUMENT', 'log store is closed');
  }
}

function readCompacted(meta: Database<Buffer, string>): { index: number; term: number } {
  const record = meta.get(COMPACTED_KEY);
  if (!record) return { index: 0, term: 0 };
  const value = decodeMeta(record);
  if (!isPoint(value)) throw new CorruptStorageError('log compaction point fails its checksum');
  return value;
}

function isPoint(v: unknown): v is { index: number; term: number } {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return Number.isSafeInteger(o.index) && Number.isSafeInteger(o.term);
}
