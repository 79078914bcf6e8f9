/**
 * The write-ahead log's records. Every record is framed as (little-endian)
 *
 *   crc u32 | length u32 | type u8 | payload (length bytes)
 *
 * where `crc` is the CRC-32C of everything after it (length, type and payload), so a torn, zeroed or
 * corrupted record fails its checksum and is never handed to Raft. The type's high bit (`AFTER_SYNC`)
 * marks the first record of a write issued once every earlier byte of its segment was fsynced.
 * Every write (one batch) ends with a BATCH_END record. Recovery uses both to tell a torn tail (never
 * acknowledged) from damage to durable data (see wal-recovery.ts).
 *
 * Payloads (integers are u48, enough for any safe integer index or term):
 *   ENTRY       term | index | entry type u8 | data
 *   HARD_STATE  term | commit | has vote u8 | vote (UTF-8)
 *   COMPACT     index | term                 entries up to `index` dropped (after a snapshot)
 *   RESET       index | term                 the whole log replaced by this point (snapshot installed)
 *   BASE        seq u32 | index | term | last   first record of every segment: the compaction point
 *                                              and last index when the segment was started
 *   BATCH_END   start | 0xff                 last record of every write: where in the segment the write
 *                                              began; the constant last byte means a write torn inside the
 *                                              record (which loses a suffix of it) is never one bit away
 *                                              from a valid one
 */
import { ENTRY_CONF_CHANGE, ENTRY_NORMAL, type Entry, type EntryType, type HardState } from '../core/types.js';
import { crc32c } from './crc32c.js';

export const HEADER_BYTES = 9;
export const REC_ENTRY = 1;
export const REC_HARD_STATE = 2;
export const REC_COMPACT = 3;
export const REC_RESET = 4;
export const REC_BASE = 5;
export const REC_BATCH_END = 6;
export const AFTER_SYNC = 0x80;

const U48 = 6;
const ENTRY_FIXED = U48 + U48 + 1;
const HARD_STATE_FIXED = U48 + U48 + 1;
const POINT_BYTES = U48 + U48;
const BASE_BYTES = 4 + U48 + U48 + U48;
const BATCH_END_BYTES = U48 + 1;
const BATCH_END_MARK = 0xff;

/** A record whose frame and checksum verified; its payload is `buf[start, end)`. */
export interface Frame {
  readonly ok: true;
  readonly type: number;
  readonly afterSync: boolean;
  readonly start: number;
  readonly end: number;
}

/** A record that failed: `next` is where the following record starts, when its length could be trusted to fit. */
export interface BadFrame {
  readonly ok: false;
  /** The type byte as found (meaningless if the header itself is damaged). */
  readonly type: number;
  readonly next: number | undefined;
  /** Why it failed, for the operator. */
  readonly reason: string;
}

export interface BaseRecord {
  readonly seq: number;
  readonly index: number;
  readonly term: number;
  readonly last: number;
}

/** Reads the record at `at`; a short header, a length past the end, a checksum or payload-size mismatch fail it. */
export function readFrame(buf: Buffer, at: number): Frame | BadFrame {
  if (buf.length - at < HEADER_BYTES) return { ok: false, type: 0, next: undefined, reason: 'record header cut short' };
  const length = buf.readUInt32LE(at + 4);
  const typeByte = buf[at + 8]!;
  const end = at + HEADER_BYTES + length;
  const type = typeByte & ~AFTER_SYNC;
  if (end > buf.length) return { ok: false, type, next: undefined, reason: `record length ${length} runs past the end of the file` };
  if (buf.readUInt32LE(at) !== crc32c(buf.subarray(at + 4, end))) return { ok: false, type, next: end, reason: 'checksum mismatch' };
  if (!payloadFits(buf, type, at + HEADER_BYTES, length)) return { ok: false, type, next: end, reason: `malformed record of type ${type}` };
  return { ok: true, type, afterSync: (typeByte & AFTER_SYNC) !== 0, start: at + HEADER_BYTES, end };
}

/** A cheap test, before the checksum, of whether a record could start at `at` (for a search past damage). */
export function mayBeFrame(buf: Buffer, at: number): boolean {
  if (buf.length - at < HEADER_BYTES) return false;
  const type = buf[at + 8]! & ~AFTER_SYNC;
  if (type < REC_ENTRY || type > REC_BATCH_END) return false;
  const length = buf.readUInt32LE(at + 4);
  return at + HEADER_BYTES + length <= buf.length && payloadFits(buf, type, at + HEADER_BYTES, length);
}

function payloadFits(buf: Buffer, type: number, start: number, length: number): boolean {
  switch (type) {
    case REC_ENTRY: {
      if (length < ENTRY_FIXED) return false;
      const entryType = buf[start + U48 + U48];
      return entryType === ENTRY_NORMAL || entryType === ENTRY_CONF_CHANGE;
    }
    case REC_HARD_STATE: {
      if (length < HARD_STATE_FIXED) return false;
      const hasVote = buf[start + U48 + U48];
      return hasVote === 1 || (hasVote === 0 && length === HARD_STATE_FIXED);
    }
    case REC_COMPACT:
    case REC_RESET:
      return length === POINT_BYTES;
    case REC_BASE:
      return length === BASE_BYTES;
    case REC_BATCH_END:
      return length === BATCH_END_BYTES && buf[start + U48] === BATCH_END_MARK;
    default:
      return false;
  }
}

/** Whether `buf[from, to)` is all zero bytes (space written ahead of the log, never a record). */
export function isZero(buf: Buffer, from: number, to = buf.length): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false;
  return true;
}

export const entryRecordBytes = (e: Entry): number => HEADER_BYTES + ENTRY_FIXED + e.data.length;
export const hardStateRecordBytes = (hs: HardState): number =>
  HEADER_BYTES + HARD_STATE_FIXED + (hs.vote === null ? 0 : Buffer.byteLength(hs.vote, 'utf8'));
export const POINT_RECORD_BYTES = HEADER_BYTES + POINT_BYTES;
export const BASE_RECORD_BYTES = HEADER_BYTES + BASE_BYTES;
export const BATCH_END_RECORD_BYTES = HEADER_BYTES + BATCH_END_BYTES;

/** Each writer fills `buf` at `at` (with `flags` on the type byte) and returns where the record ends. */
export function writeEntryRecord(buf: Buffer, at: number, e: Entry, flags = 0): number {
  const p = at + HEADER_BYTES;
  buf.writeUIntLE(e.term, p, U48);
  buf.writeUIntLE(e.index, p + U48, U48);
  buf[p + 2 * U48] = e.type;
  buf.set(e.data, p + ENTRY_FIXED);
  return seal(buf, at, REC_ENTRY | flags, ENTRY_FIXED + e.data.length);
}

export function writeHardStateRecord(buf: Buffer, at: number, hs: HardState, flags = 0): number {
  const p = at + HEADER_BYTES;
  buf.writeUIntLE(hs.term, p, U48);
  buf.writeUIntLE(hs.commit, p + U48, U48);
  buf[p + 2 * U48] = hs.vote === null ? 0 : 1;
  const voteBytes = hs.vote === null ? 0 : buf.write(hs.vote, p + HARD_STATE_FIXED, 'utf8');
  return seal(buf, at, REC_HARD_STATE | flags, HARD_STATE_FIXED + voteBytes);
}

/** A COMPACT or RESET record. */
export function writePointRecord(buf: Buffer, at: number, type: typeof REC_COMPACT | typeof REC_RESET, index: number, term: number, flags = 0): number {
  const p = at + HEADER_BYTES;
  buf.writeUIntLE(index, p, U48);
  buf.writeUIntLE(term, p + U48, U48);
  return seal(buf, at, type | flags, POINT_BYTES);
}

export function writeBaseRecord(buf: Buffer, at: number, base: BaseRecord, flags = 0): number {
  const p = at + HEADER_BYTES;
  buf.writeUInt32LE(base.seq, p);
  buf.writeUIntLE(base.index, p + 4, U48);
  buf.writeUIntLE(base.term, p + 4 + U48, U48);
  buf.writeUIntLE(base.last, p + 4 + 2 * U48, U48);
  return seal(buf, at, REC_BASE | flags, BASE_BYTES);
}

/** The record that ends a write which began at offset `start` of its segment. */
export function writeBatchEndRecord(buf: Buffer, at: number, start: number, flags = 0): number {
  const p = at + HEADER_BYTES;
  buf.writeUIntLE(start, p, U48);
  buf[p + U48] = BATCH_END_MARK;
  return seal(buf, at, REC_BATCH_END | flags, BATCH_END_BYTES);
}

/**
 * Whether `buf[at, at + BATCH_END_RECORD_BYTES)` is a BATCH_END record with exactly one bit flipped: a
 * write torn inside it loses a suffix, so at least the eight bits of its last byte.
 */
export function isBatchEndWithOneFlip(buf: Buffer, at: number): boolean {
  if (buf.length - at < BATCH_END_RECORD_BYTES) return false;
  const rec = Buffer.from(buf.subarray(at, at + BATCH_END_RECORD_BYTES));
  for (let bit = 0; bit < rec.length * 8; bit++) {
    const i = bit >> 3;
    const original = rec[i]!;
    rec[i] = original ^ (1 << (bit & 7));
    const f = readFrame(rec, 0);
    rec[i] = original;
    if (f.ok && f.type === REC_BATCH_END) return true;
  }
  return false;
}

function seal(buf: Buffer, at: number, typeByte: number, length: number): number {
  const end = at + HEADER_BYTES + length;
  buf.writeUInt32LE(length, at + 4);
  buf[at + 8] = typeByte;
  buf.writeUInt32LE(crc32c(buf.subarray(at + 4, end)), at);
  return end;
}

/** Index and term of a verified ENTRY frame, without copying its data. */
export function entryKey(buf: Buffer, f: Frame): { index: number; term: number } {
  return { term: buf.readUIntLE(f.start, U48), index: buf.readUIntLE(f.start + U48, U48) };
}

/** A verified ENTRY frame as an Entry (its data copied out of `buf`). */
export function decodeEntry(buf: Buffer, f: Frame): Entry {
  const { index, term } = entryKey(buf, f);
  const type = buf[f.start + 2 * U48] as EntryType;
  return { index, term, type, data: new Uint8Array(buf.subarray(f.start + ENTRY_FIXED, f.end)) };
}

export function decodeHardState(buf: Buffer, f: Frame): HardState {
  const hasVote = buf[f.start + 2 * U48] === 1;
  return {
    term: buf.readUIntLE(f.start, U48),
    vote: hasVote ? buf.toString('utf8', f.start + HARD_STATE_FIXED, f.end) : null,
    commit: buf.readUIntLE(f.start + U48, U48),
  };
}

/** The (index, term) of a verified COMPACT or RESET frame. */
export function decodePoint(buf: Buffer, f: Frame): { index: number; term: number } {
  return { index: buf.readUIntLE(f.start, U48), term: buf.readUIntLE(f.start + U48, U48) };
}

/** Where the write ended by a verified BATCH_END frame began. */
export const decodeBatchStart = (buf: Buffer, f: Frame): number => buf.readUIntLE(f.start, U48);

export function decodeBase(buf: Buffer, f: Frame): BaseRecord {
  return {
    seq: buf.readUInt32LE(f.start),
    index: buf.readUIntLE(f.start + 4, U48),
    term: buf.readUIntLE(f.start + 4 + U48, U48),
    last: buf.readUIntLE(f.start + 4 + 2 * U48, U48),
  };
}
