/**
 * Replays the write-ahead log on open. Segments are read in order and every record's checksum and
 * place is verified: the first segment found starts the replay at its BASE record, and each later
 * segment's BASE must match the state replayed before it. Zeros after the last record are space
 * written ahead of the log, a clean end.
 *
 * The first record that fails (torn, corrupt, or out of place: a gap, a decreasing term, a BASE or hard
 * state missing from a segment's header) is cut together with everything after it — the file is
 * truncated there and later segments are deleted — and the cut is reported; none of it is applied.
 * Except: when the failed record is durable (a later record says it was written after an fsync, or a
 * later segment exists) and either it is a hard state or a later hard state carries a term or vote the
 * replay did not reach, the cut would forget a vote the node may have given, so it throws
 * `CorruptStorageError` instead.
 */
import { readFile, rm, truncate } from 'node:fs/promises';
import { EMPTY_HARD_STATE, type HardState } from '../core/types.js';
import { CorruptStorageError } from '../errors.js';
import { WalIndex } from './wal-index.js';
import {
  HEADER_BYTES,
  REC_BASE,
  REC_COMPACT,
  REC_ENTRY,
  REC_HARD_STATE,
  REC_RESET,
  decodeBase,
  decodeHardState,
  decodePoint,
  entryKey,
  isZero,
  readFrame,
  type Frame,
} from './wal-record.js';
import { listSegments, segmentPath } from './wal-segments.js';
import { mkdirDurable, type StorageFs } from './storage-fs.js';

export interface WalOpenReport {
  /** Records cut on open: the first that failed verification and every record after it that could be framed. */
  readonly truncated: number;
  /** Bytes cut, whole later segments included. */
  readonly truncatedBytes: number;
}

export interface RecoveredWal {
  readonly index: WalIndex;
  readonly hardState: HardState;
  /** The segments kept, oldest first, with where their records end; empty for a new log. */
  readonly segments: readonly { readonly seq: number; readonly size: number }[];
  readonly report: WalOpenReport;
}

interface Replay {
  readonly index: WalIndex;
  hardState: HardState;
}

interface Scan {
  /** Where the verified records end. */
  readonly end: number;
  readonly records: number;
  readonly bad?: { readonly type: number; readonly next: number | undefined };
}

interface Tail {
  records: number;
  afterSync: boolean;
  readonly hardStates: HardState[];
}

export async function recoverWal(dir: string, fs: StorageFs): Promise<RecoveredWal> {
  await mkdirDurable(fs, dir);
  const seqs = await listSegments(dir);
  for (let k = 1; k < seqs.length; k++) {
    if (seqs[k] !== seqs[k - 1]! + 1) throw new CorruptStorageError(`WAL segment ${seqs[k - 1]! + 1} is missing in ${dir}`);
  }
  const replay: Replay = { index: new WalIndex(), hardState: EMPTY_HARD_STATE };
  const kept: { seq: number; size: number }[] = [];
  for (let k = 0; k < seqs.length; k++) {
    const seq = seqs[k]!;
    const buf = await readFile(segmentPath(dir, seq));
    const scan = replaySegment(buf, seq, k === 0, replay);
    if (!scan.bad) {
      kept.push({ seq, size: scan.end });
      continue;
    }
    const tail = scanTail(buf, scan.bad.next);
    let truncatedBytes = buf.length - scan.end;
    for (const later of seqs.slice(k + 1)) {
      const laterBuf = await readFile(segmentPath(dir, later));
      mergeTail(tail, scanTail(laterBuf, 0));
      truncatedBytes += laterBuf.length;
    }
    const durable = k < seqs.length - 1 || tail.afterSync;
    const forgetsVote = tail.hardStates.some((hs) => hs.term !== replay.hardState.term || hs.vote !== replay.hardState.vote);
    if (durable && (scan.bad.type === REC_HARD_STATE || forgetsVote)) {
      throw new CorruptStorageError(
        `WAL segment ${segmentPath(dir, seq)} is corrupt at offset ${scan.end}, before records that were fsynced; ` +
          'cutting it would lose a durable term or vote',
      );
    }
    for (const later of seqs.slice(k + 1).reverse()) await rm(segmentPath(dir, later));
    // A segment without its whole header (BASE, hard state) was being started when the node stopped.
    if (scan.records >= 2) {
      await truncate(segmentPath(dir, seq), scan.end);
      kept.push({ seq, size: scan.end });
    } else {
      await rm(segmentPath(dir, seq));
      if (k === 0 && seq !== 1) throw new CorruptStorageError(`WAL segment ${segmentPath(dir, seq)}, the oldest kept, has no header`);
    }
    return finish(replay, kept, { truncated: 1 + tail.records, truncatedBytes });
  }
  return finish(replay, kept, { truncated: 0, truncatedBytes: 0 });
}

function finish(replay: Replay, segments: { seq: number; size: number }[], report: WalOpenReport): RecoveredWal {
  const absent = replay.index.firstAbsent();
  if (absent !== undefined) throw new CorruptStorageError(`WAL entry ${absent} is in a segment that was deleted`);
  return { index: replay.index, hardState: replay.hardState, segments, report };
}

/** Applies the segment's records in order; stops at the first that fails or is out of place. */
function replaySegment(buf: Buffer, seq: number, first: boolean, replay: Replay): Scan {
  let at = 0;
  let records = 0;
  while (at < buf.length) {
    const f = readFrame(buf, at);
    if (!f.ok) {
      if (isZero(buf, at)) break;
      return { end: at, records, bad: { type: f.type, next: f.next } };
    }
    if (!applyRecord(buf, f, seq, records, first, replay)) return { end: at, records, bad: { type: f.type, next: f.end } };
    records++;
    at = f.end;
  }
  return { end: at, records };
}

/** Applies one verified record; false when it does not fit the log replayed so far. */
function applyRecord(buf: Buffer, f: Frame, seq: number, position: number, first: boolean, replay: Replay): boolean {
  const index = replay.index;
  if (position === 0) {
    if (f.type !== REC_BASE) return false;
    const base = decodeBase(buf, f);
    if (base.seq !== seq) return false;
    if (first) {
      index.base(base.index, base.term, base.last);
    } else if (base.index !== index.compactIndex || base.term !== index.compactTerm || base.last !== index.last) {
      throw new CorruptStorageError(`WAL segment ${seq} starts at (${base.index}, ${base.term}, ${base.last}), not where segment ${seq - 1} ends`);
    }
    return true;
  }
  if (position === 1 && f.type !== REC_HARD_STATE) return false;
  switch (f.type) {
    case REC_ENTRY: {
      const { index: i, term } = entryKey(buf, f);
      if (i <= index.compactIndex || i > index.last + 1) return false;
      const prev = index.term(i - 1);
      if (prev !== undefined && term < prev) return false;
      index.append(i, term, seq, f.start - HEADER_BYTES, f.end - f.start + HEADER_BYTES);
      return true;
    }
    case REC_HARD_STATE:
      replay.hardState = decodeHardState(buf, f);
      return true;
    case REC_COMPACT: {
      const p = decodePoint(buf, f);
      if (p.index <= index.compactIndex || p.index >= index.last) return false;
      index.compact(p.index, p.term);
      return true;
    }
    case REC_RESET: {
      const p = decodePoint(buf, f);
      index.reset(p.index, p.term);
      return true;
    }
    default:
      return false;
  }
}

/** Follows record frames from `at` as far as their lengths allow: what a cut there would drop. */
function scanTail(buf: Buffer, at: number | undefined): Tail {
  const tail: Tail = { records: 0, afterSync: false, hardStates: [] };
  while (at !== undefined && at < buf.length && !isZero(buf, at)) {
    const f = readFrame(buf, at);
    tail.records++;
    if (f.ok) {
      if (f.afterSync) tail.afterSync = true;
      if (f.type === REC_HARD_STATE) tail.hardStates.push(decodeHardState(buf, f));
      at = f.end;
    } else {
      at = f.next;
    }
  }
  return tail;
}

function mergeTail(into: Tail, more: Tail): void {
  into.records += more.records;
  into.afterSync ||= more.afterSync;
  into.hardStates.push(...more.hardStates);
}
