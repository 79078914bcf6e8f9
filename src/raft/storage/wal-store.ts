/**
 * The Raft log and hard state in one write-ahead log (segment files, see wal-writer.ts and
 * wal-record.ts): both ports over one append-only file set, so the entries and the hard state of one
 * Ready go out in one write and one fdatasync.
 *
 * Reads are synchronous and see every write at once, queued or not: recent entries come from the
 * `EntryCache`, older ones from the writer's position index with a positioned read of their record.
 * The cache evicts only entries already on disk, so whatever it no longer holds can be read back.
 */
import type { Entry, HardState } from '../core/types.js';
import type { LogStore, StableStore } from '../ports.js';
import { CorruptStorageError, RaftError } from '../errors.js';
import { EntryCache, entrySize } from './entry-cache.js';
import type { WalOpenReport } from './wal-recovery.js';
import { REC_ENTRY, decodeEntry, readFrame } from './wal-record.js';
import { WalWriter, type WalOp, type WalStats, type WalWriterOptions } from './wal-writer.js';

export interface WalStoreOptions extends WalWriterOptions {
  /** Most entries kept decoded in memory (default 10,000). */
  cacheEntries?: number;
  /** Most bytes of entry data kept decoded in memory (default 64 MiB). */
  cacheBytes?: number;
}

export class WalStore implements LogStore, StableStore {
  private snapIndex: number;
  private snapTerm: number;
  private last: number;
  private closed: Promise<void> | undefined;

  private constructor(
    private readonly writer: WalWriter,
    private hardState: HardState,
    private readonly cache: EntryCache,
  ) {
    this.snapIndex = writer.index.compactIndex;
    this.snapTerm = writer.index.compactTerm;
    this.last = writer.index.last;
    writer.onFlushed = () => this.cache.evict(this.writer.pendingAppendFrom() - 1);
  }

  /**
   * Opens (creating if needed) the log in `dir`, cutting a torn tail (see `openReport`); rejects with
   * `WalCorruptError` when a damaged record was provably fsynced (see wal-recovery.ts).
   */
  static async open(dir: string, options: WalStoreOptions = {}): Promise<WalStore> {
    const { writer, hardState } = await WalWriter.open(dir, options);
    try {
      const maxEntries = options.cacheEntries ?? 10_000;
      const maxBytes = options.cacheBytes ?? 64 * 1024 * 1024;
      const store = new WalStore(writer, hardState, new EntryCache(writer.index.last + 1, maxEntries, maxBytes));
      store.warmCache(maxEntries, maxBytes);
      return store;
    } catch (err) {
      await writer.close();
      throw err;
    }
  }

  /** What recovery cut when the log was opened. */
  get openReport(): WalOpenReport {
    return this.writer.openReport;
  }

  stats(): WalStats {
    return this.writer.stats();
  }

  firstIndex(): number {
    return this.snapIndex + 1;
  }

  lastIndex(): number {
    return this.last;
  }

  term(index: number): number | undefined {
    if (index === this.snapIndex) return this.snapTerm;
    if (index < this.snapIndex || index > this.last) return undefined;
    if (index >= this.cache.first) return this.cache.get(index)?.term;
    return this.writer.index.term(index);
  }

  entries(lo: number, hi: number, maxBytes = Number.POSITIVE_INFINITY): Entry[] {
    if (lo <= this.snapIndex) throw new RaftError('INVALID_ARGUMENT', `entries(${lo}) compacted (first index ${this.firstIndex()})`);
    if (hi > this.last + 1) throw new RaftError('INVALID_ARGUMENT', `entries(${lo}, ${hi}) beyond last index ${this.last}`);
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.entry(i);
      bytes += e.data.length;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  append(entries: readonly Entry[], options: { background?: boolean } = {}): Promise<void> {
    const first = entries[0];
    if (!first) return Promise.resolve();
    if (first.index <= this.snapIndex || first.index > this.last + 1) {
      return Promise.reject(new RaftError('INVALID_ARGUMENT', `append at ${first.index} leaves a gap or rewrites compacted entries (log ${this.firstIndex()}..${this.last})`));
    }
    if (entries.some((e, i) => e.index !== first.index + i)) {
      return Promise.reject(new RaftError('INVALID_ARGUMENT', `appended entries from ${first.index} are not contiguous`));
    }
    return this.submit(
      { kind: 'append', entries: entries.slice() },
      true,
      () => {
        this.cache.append(entries);
        this.last = first.index + entries.length - 1;
      },
      options.background,
    );
  }

  compact(index: number, term: number): Promise<void> {
    if (index <= this.snapIndex) return Promise.resolve();
    if (index >= this.last) return this.reset(index, term);
    return this.submit({ kind: 'compact', index, term }, true, () => {
      this.snapIndex = index;
      this.snapTerm = term;
      this.cache.dropThrough(index);
    });
  }

  reset(index: number, term: number): Promise<void> {
    return this.submit({ kind: 'reset', index, term }, true, () => {
      this.snapIndex = index;
      this.snapTerm = term;
      this.last = index;
      this.cache.clear(index + 1);
    });
  }

  loadHardState(): HardState {
    return this.hardState;
  }

  /** With `sync: false` the state is written without an fsync of its own (for a commit-index-only change). */
  saveHardState(state: HardState, options: { sync?: boolean } = {}): Promise<void> {
    const saved: HardState = { term: state.term, vote: state.vote, commit: state.commit };
    return this.submit({ kind: 'hardState', state: saved }, options.sync ?? true, () => {
      this.hardState = saved;
    });
  }

  /** Waits for queued writes, then closes the files. Idempotent. */
  close(): Promise<void> {
    this.closed ??= this.writer.close();
    return this.closed;
  }

  /** Applies a write to the in-memory view and queues it, unless the store is closed. */
  private submit(op: WalOp, sync: boolean, apply: () => void, background = false): Promise<void> {
    if (this.closed) return Promise.reject(new RaftError('INVALID_ARGUMENT', 'the WAL store is closed'));
    apply();
    return this.writer.submit(op, sync, background);
  }

  private entry(index: number): Entry {
    if (index >= this.cache.first) {
      const cached = this.cache.get(index);
      if (!cached) throw new CorruptStorageError(`log entry ${index} missing from the cache`);
      return cached;
    }
    const pos = this.writer.index.position(index);
    if (!pos) throw new CorruptStorageError(`log entry ${index} has no position in the WAL`);
    const record = this.writer.read(pos);
    const f = readFrame(record, 0);
    const e = f.ok && f.type === REC_ENTRY && f.end === record.length ? decodeEntry(record, f) : undefined;
    if (!e || e.index !== index) throw new CorruptStorageError(`WAL record of entry ${index} (segment ${pos.seq}, offset ${pos.offset}) fails its checksum`);
    return e;
  }

  /** Reads the newest entries back into the cache after a restart. */
  private warmCache(maxEntries: number, maxBytes: number): void {
    const tail: Entry[] = [];
    let bytes = 0;
    for (let i = this.last; i > this.snapIndex && tail.length < maxEntries && bytes < maxBytes; i--) {
      const e = this.entry(i);
      tail.push(e);
      bytes += entrySize(e);
    }
    this.cache.clear(this.last + 1 - tail.length);
    this.cache.append(tail.reverse());
  }
}
