/**
 * Replays the write-ahead log on open. Segments are read in order and every record's checksum and
 * place is verified: the first segment found starts the replay at its BASE record, and each later
 * segment's BASE must match the state replayed before it. Zeros after the last record are space
 * written ahead of the log, a clean end.
 *
 * A record that fails (torn, corrupt, or out of place: a gap, a decreasing term, a BASE or hard state
 * missing from a segment's header) is cut only when it may be a torn tail, written after the last fsync
 * and so never acknowledged: the file is truncated there and the cut reported; none of it is applied.
 * Otherwise it throws `WalCorruptError` and changes nothing, because the node may have acknowledged what
 * the record held (a vote, entries). A torn write keeps a prefix of what it wrote, cut at a sector
 * boundary (what follows reads as the zeros written ahead of the log, or the file ends), so a record is
 * not a torn tail when
 *   - a later segment exists (a segment is started only once the one before it is fsynced), or
 *   - it passed its checksum but is out of place (it was written in full), or
 *   - any verified record follows it. Every write ends with a BATCH_END record, so damage anywhere but
 *     in a write's last record is followed by one. The search follows record frames and, where a frame
 *     does not verify (a corrupt length hides where the next record starts), tries every byte offset.
 *     A torn write whose sectors reached the disk out of order is refused too: the safe direction, or
 *   - it is a BATCH_END record with one bit flipped (a write torn inside one loses its last byte, a
 *     constant of eight set bits), or
 *   - it is damaged yet no sector of it is all zero and the file is not cut short inside it (a torn write
 *     loses whole sectors): the rule that still protects logs written before BATCH_END records existed.
 */
import { EMPTY_HARD_STATE, type HardState } from '../core/types.js';
import { CorruptStorageError } from '../errors.js';
import { WalCorruptError } from './wal-errors.js';
import { WalIndex } from './wal-index.js';
import {
  HEADER_BYTES,
  REC_BASE,
  REC_BATCH_END,
  REC_COMPACT,
  REC_ENTRY,
  REC_HARD_STATE,
  REC_RESET,
  decodeBase,
  decodeBatchStart,
  decodeHardState,
  decodePoint,
  entryKey,
  isBatchEndWithOneFlip,
  isZero,
  mayBeFrame,
  readFrame,
  type Frame,
} from './wal-record.js';
import { listSegments, segmentPath } from './wal-segments.js';
import { mkdirDurable, type StorageFs } from './storage-fs.js';

/** The unit a disk writes whole (or not at all) when the power fails. */
const SECTOR_BYTES = 512;

export interface WalOpenReport {
  /** Records cut on open (a torn tail): the first that failed verification and every record after it that could be framed. */
  readonly truncated: number;
  /** Bytes cut from the newest segment (all of it, when its header was torn). */
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
  /** Where the current segment's last BATCH_END record ends (0 before the first): no write begins before it. */
  batchFrom: number;
}

interface Scan {
  /** Where the verified records end. */
  readonly end: number;
  readonly records: number;
  /** `next`: where the record after the failed one starts, if its length fits; `verified`: it passed its checksum. */
  readonly bad?: { readonly next: number | undefined; readonly verified: boolean; readonly reason: string };
}

export async function recoverWal(dir: string, fs: StorageFs): Promise<RecoveredWal> {
  await mkdirDurable(fs, dir);
  const seqs = await listSegments(fs, dir);
  for (let k = 1; k < seqs.length; k++) {
    if (seqs[k] !== seqs[k - 1]! + 1) throw new CorruptStorageError(`WAL segment ${seqs[k - 1]! + 1} is missing in ${dir}`);
  }
  const replay: Replay = { index: new WalIndex(), hardState: EMPTY_HARD_STATE, batchFrom: 0 };
  const kept: { seq: number; size: number }[] = [];
  for (let k = 0; k < seqs.length; k++) {
    const seq = seqs[k]!;
    const path = segmentPath(dir, seq);
    const buf = await fs.readFile(path);
    const scan = replaySegment(buf, seq, k === 0, replay);
    if (!scan.bad) {
      kept.push({ seq, size: scan.end });
      continue;
    }
    const proof = writtenProof(buf, scan.end, scan.bad, seqs[k + 1]);
    if (proof !== undefined) throw new WalCorruptError(path, scan.end, scan.bad.reason, proof);
    // A torn tail of the newest segment. One without its whole header (BASE, hard state) was being started.
    const torn = countRecords(buf, scan.end);
    if (scan.records >= 2) {
      await fs.truncate(path, scan.end);
      kept.push({ seq, size: scan.end });
      return finish(replay, kept, { truncated: torn, truncatedBytes: buf.length - scan.end });
    }
    if (k === 0 && seq !== 1) throw new CorruptStorageError(`WAL segment ${path}, the oldest kept, has no header`);
    await fs.rm(path);
    return finish(replay, kept, { truncated: scan.records + torn, truncatedBytes: buf.length });
  }
  return finish(replay, kept, { truncated: 0, truncatedBytes: 0 });
}

function finish(replay: Replay, segments: { seq: number; size: number }[], report: WalOpenReport): RecoveredWal {
  const absent = replay.index.firstAbsent();
  if (absent !== undefined) throw new CorruptStorageError(`WAL entry ${absent} is in a segment that was deleted`);
  return { index: replay.index, hardState: replay.hardState, segments, report };
}

/** Applies the segment's records in order; stops at the first that fails or is out of place, or where a header is missing. */
function replaySegment(buf: Buffer, seq: number, first: boolean, replay: Replay): Scan {
  let at = 0;
  let records = 0;
  replay.batchFrom = 0;
  while (at < buf.length) {
    const f = readFrame(buf, at);
    if (!f.ok) {
      if (isZero(buf, at)) break;
      return { end: at, records, bad: { next: f.next, verified: false, reason: f.reason } };
    }
    if (!applyRecord(buf, f, seq, records, first, replay)) {
      return { end: at, records, bad: { next: f.end, verified: true, reason: `record of type ${f.type} out of place in the log` } };
    }
    records++;
    at = f.end;
  }
  // Empty or zeros: the file was created, but its first write was lost.
  if (records < 2) return { end: at, records, bad: { next: undefined, verified: false, reason: 'segment header (BASE, hard state) missing' } };
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
    case REC_BATCH_END: {
      const start = decodeBatchStart(buf, f);
      if (start < replay.batchFrom || start >= f.start - HEADER_BYTES) return false;
      replay.batchFrom = f.end;
      return true;
    }
    default:
      return false;
  }
}

/**
 * Records from a failed one on, following frames as far as their lengths allow: what the cut drops. Zeros
 * where a header would be are space written ahead of the log (no record has type 0), not records.
 */
function countRecords(buf: Buffer, at: number | undefined): number {
  let records = 0;
  while (at !== undefined && at < buf.length) {
    if (isZero(buf, at, at + HEADER_BYTES)) {
      while (at < buf.length && buf[at] === 0) at++;
      continue;
    }
    const f = readFrame(buf, at);
    records++;
    at = f.ok ? f.end : f.next;
  }
  return records;
}

/**
 * Why the failed record at `at` cannot be a torn tail (written after the last fsync, so never acknowledged),
 * or undefined when it may be one. A torn write leaves whole sectors as they were — zeros, since the log
 * never writes over its records — or a file cut short; anything else was written in full and then damaged.
 */
function writtenProof(buf: Buffer, at: number, bad: NonNullable<Scan['bad']>, laterSegment: number | undefined): string | undefined {
  if (laterSegment !== undefined) return `segment ${laterSegment} was started after it, once this one was fsynced`;
  if (bad.verified) return 'it passed its checksum, so it was written in full';
  const after = verifiedAfter(buf, at + 1);
  if (after !== undefined) {
    const what = after.afterSync ? 'a record written after an fsync' : 'a verified record';
    return `${what} follows at offset ${after.at}, and a torn write leaves nothing after what it lost`;
  }
  if (isBatchEndWithOneFlip(buf, at)) return 'it is the record ending a write, with one bit flipped: a torn write would have lost its last byte';
  if (bad.next !== undefined && !hasZeroSector(buf, at, bad.next)) {
    return `it was written in full: a torn write leaves a whole ${SECTOR_BYTES}-byte sector zero or the file short, and it has neither`;
  }
  return undefined;
}

/** The first verified record from `from` on, if any, trying every byte offset (a corrupt length hides where the next record starts). */
function verifiedAfter(buf: Buffer, from: number): { at: number; afterSync: boolean } | undefined {
  for (let at = from; at < buf.length; at++) {
    if (!mayBeFrame(buf, at)) continue;
    const f = readFrame(buf, at);
    if (f.ok) return { at, afterSync: f.afterSync };
  }
  return undefined;
}

/** Whether the part of some disk sector that falls in `buf[from, to)` is all zero (as etcd's torn-write test). */
function hasZeroSector(buf: Buffer, from: number, to: number): boolean {
  for (let start = from; start < to; ) {
    const end = Math.min(to, (Math.floor(start / SECTOR_BYTES) + 1) * SECTOR_BYTES);
    if (isZero(buf, start, end)) return true;
    start = end;
  }
  return false;
}
