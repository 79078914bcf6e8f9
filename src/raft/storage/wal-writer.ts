/**
 * The write-ahead log's writer: group commit over segment files.
 *
 * Every operation submitted in one event-loop turn joins one batch; a batch is encoded into one buffer,
 * closed by a BATCH_END record (recovery's proof that a damaged record was written in full), written
 * with one positioned write through an O_DSYNC descriptor (durable when it returns; write + fdatasync
 * when earlier bytes are unsynced), and every submitter's promise
 * resolves after that. At most one batch is in flight; operations submitted meanwhile form the next
 * one, so batches reach the disk in submission order and a crash keeps a prefix of them. A batch of
 * nothing but `sync: false` operations (a commit-index-only hard state) is not written on its own: it
 * waits, in memory, for the next synced operation and goes out in that batch (or at close), as etcd's
 * WAL buffers such a hard state until its next sync. A crash loses only commit indexes, which the
 * leader teaches again; the unsynced write and its wake-up leave the path of every replicated entry.
 *
 * Segments rotate once the active one holds `segmentBytes`: the old one is fsynced, the new one starts
 * with a BASE record and the hard state as of the end of the previous batch, and the directory is
 * fsynced before the batch resolves. Writes that extend a file pad it with zeros up to the next
 * `preallocateBytes` boundary, so most fdatasyncs do not have to change the file's size. After a synced
 * compaction or reset, the segments older than the one holding the first live entry are deleted.
 *
 * Opening and closing end with a seal: the hard state written again, as an AFTER_SYNC record, so that
 * recovery can prove every earlier record was durable (see wal-recovery.ts).
 *
 * A failed write or fsync leaves the file's state unknown: the writer fails every pending and later
 * operation with that error.
 */
import { invariant } from '../core/assert.js';
import type { Entry, HardState } from '../core/types.js';
import { RaftError } from '../errors.js';
import { nodeStorageFs, type StorageFile, type StorageFs } from './storage-fs.js';
import { recoverWal, type WalOpenReport } from './wal-recovery.js';
import type { EntryPosition, WalIndex } from './wal-index.js';
import {
  AFTER_SYNC,
  BASE_RECORD_BYTES,
  BATCH_END_RECORD_BYTES,
  POINT_RECORD_BYTES,
  REC_COMPACT,
  REC_RESET,
  entryRecordBytes,
  hardStateRecordBytes,
  writeBaseRecord,
  writeBatchEndRecord,
  writeEntryRecord,
  writeHardStateRecord,
  writePointRecord,
} from './wal-record.js';
import { Segment } from './wal-segments.js';

export type WalOp =
  | { readonly kind: 'append'; readonly entries: readonly Entry[] }
  | { readonly kind: 'hardState'; readonly state: HardState }
  | { readonly kind: 'compact' | 'reset'; readonly index: number; readonly term: number };

export interface WalWriterOptions {
  /** Rotate to a new segment once the active one holds this many bytes (default 64 MiB). */
  segmentBytes?: number;
  /** Extend segment files in steps of this many zero bytes (default 1 MiB; 0 extends only as written). */
  preallocateBytes?: number;
  /** Where the segment files live (default: the process's file system). */
  fs?: StorageFs;
  /**
   * A durable write of at most this many bytes (a batch of a few small entries) is made on the event
   * loop's thread, blocking it until the bytes are durable (default 512; 0 never does). See `mayWriteInline`.
   */
  inlineWriteBytes?: number;
}

export interface WalStats {
  /** Batches written (one positioned write each). */
  readonly writes: number;
  /** fdatasyncs of segment files. */
  readonly syncs: number;
  /** Segment files on disk. */
  readonly segments: number;
}

/** An inline durable write slower than this sends the next `INLINE_BACKOFF_WRITES` to the thread pool. */
const INLINE_SLOW_MS = 2;
const INLINE_BACKOFF_WRITES = 1000;

interface Batch {
  readonly ops: WalOp[];
  sync: boolean;
  background: boolean;
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export class WalWriter {
  private queued: Batch | undefined;
  private running: Promise<void> | undefined;
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  /** Bytes were written to the active segment since its last fsync. */
  private unsynced = false;
  /** Records were written that no later AFTER_SYNC record yet proves durable (see `seal`). */
  private unsealed = false;
  private writes = 0;
  private syncs = 0;
  /** Durable writes go through the thread pool until `writes` reaches this (see `mayWriteInline`). */
  private inlineAgainAt = 0;
  /** Called after each batch is on disk (the store evicts its cache then). */
  onFlushed: () => void = () => undefined;

  private constructor(
    private readonly dir: string,
    private readonly fs: StorageFs,
    /** Open segments, oldest first; the last is the active one (none only before the first batch). */
    private segments: Segment[],
    /** The log as written so far: the store's view may be ahead by queued operations. */
    readonly index: WalIndex,
    private writtenHardState: HardState,
    private readonly segmentBytes: number,
    private readonly preallocateBytes: number,
    private readonly inlineWriteBytes: number,
    readonly openReport: WalOpenReport,
  ) {}

  /** Recovers the log in `dir` (see wal-recovery.ts) and makes everything recovered durable. */
  static async open(dir: string, options: WalWriterOptions = {}): Promise<{ writer: WalWriter; hardState: HardState }> {
    const segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
    const preallocateBytes = options.preallocateBytes ?? 1024 * 1024;
    const inlineWriteBytes = options.inlineWriteBytes ?? 512;
    if (!(segmentBytes > 0) || !(preallocateBytes >= 0) || !(inlineWriteBytes >= 0)) {
      throw new RaftError('INVALID_ARGUMENT', 'WAL segmentBytes must be positive, preallocateBytes and inlineWriteBytes not negative');
    }
    const fs = options.fs ?? nodeStorageFs;
    const recovered = await recoverWal(dir, fs);
    const segments: Segment[] = [];
    try {
      for (const s of recovered.segments) segments.push(await Segment.open(fs, dir, s.seq, s.size));
      const writer = new WalWriter(dir, fs, segments, recovered.index, recovered.hardState, segmentBytes, preallocateBytes, inlineWriteBytes, recovered.report);
      const active = segments[segments.length - 1];
      if (active) {
        // After a crash of the process (not the machine) records may sit only in the page cache: make
        // them durable before the node acts on them, and the repairs recovery made to the directory too.
        await active.handle.datasync();
        await fs.fsyncDir(dir);
        await writer.seal();
      } else {
        await writer.flush([], true);
      }
      return { writer, hardState: recovered.hardState };
    } catch (err) {
      for (const s of segments) await s.handle.close();
      throw err;
    }
  }

  /**
   * Queues `op` in the current batch; resolves once the batch is durable. A batch of `sync: false`
   * operations only waits for the next synced operation (or `close`) before it is written. A batch
   * with a `background` operation is never written on the event loop's thread (see `mayWriteInline`).
   * The write of a batch starts in the first microtask after its first synced operation was submitted.
   */
  submit(op: WalOp, sync: boolean, background = false): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new RaftError('INVALID_ARGUMENT', 'the WAL is closed'));
    const batch = this.queued ?? (this.queued = newBatch());
    batch.ops.push(op);
    batch.sync ||= sync;
    batch.background ||= background;
    if (batch.sync) this.running ??= this.run();
    return batch.promise;
  }

  /** The first index a queued (not yet written) append rewrites: cached entries from there must stay cached. */
  pendingAppendFrom(): number {
    let from = Number.POSITIVE_INFINITY;
    for (const op of this.queued?.ops ?? []) if (op.kind === 'append') from = Math.min(from, op.entries[0]?.index ?? from);
    return from;
  }

  /** Reads an entry's record (synchronously). */
  read(pos: EntryPosition): Buffer {
    const segment = this.segments.find((s) => s.seq === pos.seq);
    if (!segment) throw new RaftError('INVALID_ARGUMENT', `WAL segment ${pos.seq} is not open`);
    return segment.read(pos.offset, pos.length);
  }

  stats(): WalStats {
    return { writes: this.writes, syncs: this.syncs, segments: this.segments.length };
  }

  /** Waits for queued batches, makes everything written durable and provably so (`seal`), and closes the files. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // A batch held for a later sync (commit-index-only hard states) is written now, with the seal.
      if (this.queued) {
        this.queued.sync = true;
        this.running ??= this.run();
      }
      await this.running;
      try {
        if (this.unsealed && !this.failure) await this.seal();
      } finally {
        for (const s of this.segments) await s.handle.close();
      }
    })();
    return this.closing;
  }

  /**
   * Writes the current hard state again as an AFTER_SYNC record, fsynced: recovery can then prove that
   * every record before it was durable, and refuse to cut one that is damaged, however (done on open and
   * on close; since every write ends with a BATCH_END, only damage to the last record of the last write
   * since then that is more than one bit flip can pass for a torn tail). It never starts a segment.
   */
  private async seal(): Promise<void> {
    const active = this.segments[this.segments.length - 1];
    if (active && this.unsynced) await this.sync(active);
    await this.flush([{ kind: 'hardState', state: this.writtenHardState }], true, false);
    this.unsealed = false;
  }

  private async run(): Promise<void> {
    // Let the rest of this turn's operations join the batch.
    await Promise.resolve();
    while (this.queued?.sync && !this.failure) {
      const batch = this.queued;
      this.queued = undefined;
      try {
        await this.flush(batch.ops, batch.sync, true, batch.background);
      } catch (err) {
        this.fail(err as Error, batch);
        break;
      }
      batch.resolve();
      this.onFlushed();
    }
    this.running = undefined;
  }

  /** Fails the batch that was being written, the one queued behind it, and every later operation. */
  private fail(err: Error, batch: Batch): void {
    this.failure = err;
    batch.reject(err);
    this.queued?.reject(err);
    this.queued = undefined;
  }

  private async flush(ops: readonly WalOp[], syncRequested: boolean, mayRotate = true, background = false): Promise<void> {
    let active = this.segments[this.segments.length - 1];
    const rotate = !active || (mayRotate && active.size >= this.segmentBytes);
    this.unsealed = true;
    const sync = syncRequested || rotate;
    const seq = active ? (rotate ? active.seq + 1 : active.seq) : 1;
    const start = rotate ? 0 : active!.size;
    let bytes = (rotate ? BASE_RECORD_BYTES + hardStateRecordBytes(this.writtenHardState) : 0) + BATCH_END_RECORD_BYTES;
    for (const op of ops) bytes += opBytes(op);
    const end = start + bytes;
    const allocated = rotate ? 0 : active!.allocated;
    const extend = end > allocated && this.preallocateBytes > 0;
    const padded = extend ? Math.max(end, Math.min(roundUp(end, this.preallocateBytes), this.segmentBytes)) : end;
    const buf = Buffer.allocUnsafe(padded - start);
    // The first record claims every earlier byte of the segment was fsynced before this write (recovery's torn-tail test).
    let flags = rotate || !this.unsynced ? AFTER_SYNC : 0;
    let at = 0;
    if (rotate) {
      const index = this.index;
      at = writeBaseRecord(buf, at, { seq, index: index.compactIndex, term: index.compactTerm, last: index.last }, flags);
      at = writeHardStateRecord(buf, at, this.writtenHardState);
      flags = 0;
    }
    for (const op of ops) {
      at = this.encode(op, buf, at, seq, start, flags);
      flags = 0;
    }
    at = writeBatchEndRecord(buf, at, start, flags);
    invariant(at === bytes, `WAL batch encoded ${at} bytes, sized ${bytes}`);
    buf.fill(0, at);

    if (rotate) {
      if (active && this.unsynced) await this.sync(active);
      active = await Segment.create(this.fs, this.dir, seq);
      this.segments.push(active);
    }
    const segment = active!;
    // With nothing unsynced before it, a synced batch is one O_DSYNC write: durable when it returns.
    const oneCall = sync && !this.unsynced;
    const bytesWritten =
      oneCall && !background && this.mayWriteInline(segment.handle, buf.length)
        ? this.writeInline(segment.handle, buf, start)
        : (await (oneCall ? segment.handle.writeDurable(buf, 0, buf.length, start) : segment.handle.write(buf, 0, buf.length, start))).bytesWritten;
    this.writes++;
    if (bytesWritten !== buf.length) throw new RaftError('UNAVAILABLE', `short write to ${segment.path}: ${bytesWritten} of ${buf.length} bytes`);
    segment.size = end;
    segment.allocated = Math.max(segment.allocated, start + buf.length);
    if (oneCall) this.syncs++;
    else if (sync) await this.sync(segment);
    else this.unsynced = true;
    if (rotate) await this.fs.fsyncDir(this.dir);
    if (sync && ops.some((op) => op.kind === 'compact' || op.kind === 'reset')) await this.dropSegments();
  }

  /**
   * Whether a durable write is made on the event loop's thread (`writeDurableSync`): only a small one, a
   * batch of a few entries (at low load a proposal waits for nothing but such writes, and the thread
   * pool's hand-offs are a good part of each), and not while backing off after a slow one.
   */
  private mayWriteInline(file: StorageFile, bytes: number): boolean {
    return file.writeDurableSync !== undefined && bytes <= this.inlineWriteBytes && this.writes >= this.inlineAgainAt;
  }

  private writeInline(file: StorageFile, buf: Buffer, position: number): number {
    const t0 = performance.now();
    const written = file.writeDurableSync!(buf, 0, buf.length, position);
    // A slow disk must not stall the event loop write after write: the thread pool takes the next ones.
    if (performance.now() - t0 > INLINE_SLOW_MS) this.inlineAgainAt = this.writes + INLINE_BACKOFF_WRITES;
    return written;
  }

  /** Encodes `op` at `buf[at]` (file offset `start + at` of segment `seq`) and applies it to the index. */
  private encode(op: WalOp, buf: Buffer, at: number, seq: number, start: number, flags: number): number {
    switch (op.kind) {
      case 'append':
        for (const e of op.entries) {
          const next = writeEntryRecord(buf, at, e, flags);
          flags = 0;
          this.index.append(e.index, e.term, seq, start + at, next - at);
          at = next;
        }
        return at;
      case 'hardState':
        this.writtenHardState = op.state;
        return writeHardStateRecord(buf, at, op.state, flags);
      case 'compact':
        this.index.compact(op.index, op.term);
        return writePointRecord(buf, at, REC_COMPACT, op.index, op.term, flags);
      case 'reset':
        this.index.reset(op.index, op.term);
        return writePointRecord(buf, at, REC_RESET, op.index, op.term, flags);
    }
  }

  private async sync(segment: Segment): Promise<void> {
    await segment.handle.datasync();
    this.syncs++;
    this.unsynced = false;
  }

  /** Deletes the segments older than the first live entry's (the whole log but the active one when it is empty). */
  private async dropSegments(): Promise<void> {
    const active = this.segments[this.segments.length - 1]!;
    const keep = this.index.firstSeq() ?? active.seq;
    const doomed = this.segments.filter((s) => s.seq < keep);
    if (doomed.length === 0) return;
    this.segments = this.segments.filter((s) => s.seq >= keep);
    // Oldest first: a crash in between leaves a contiguous run of segments.
    for (const s of doomed) {
      await s.handle.close();
      await this.fs.rm(s.path);
    }
    await this.fs.fsyncDir(this.dir);
  }
}

function opBytes(op: WalOp): number {
  switch (op.kind) {
    case 'append': {
      let n = 0;
      for (const e of op.entries) n += entryRecordBytes(e);
      return n;
    }
    case 'hardState':
      return hardStateRecordBytes(op.state);
    case 'compact':
    case 'reset':
      return POINT_RECORD_BYTES;
  }
}

const roundUp = (n: number, step: number): number => Math.ceil(n / step) * step;

function newBatch(): Batch {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { ops: [], sync: false, background: false, promise, resolve, reject };
}
