/**
 * On-disk encodings of log entries and small metadata records. Every record starts with a CRC-32C of
 * the rest, so a torn or corrupted record is detected when read and never handed to Raft.
 *
 * Entry record: crc32c u32 | term u48 | index u48 | type u8 | data.
 * Meta record:  crc32c u32 | msgpack(value).
 */
import { Packr } from 'msgpackr';
import { ENTRY_CONF_CHANGE, ENTRY_NORMAL, type Entry, type EntryType } from '../core/types.js';
import { crc32c } from './crc32c.js';

const ENTRY_HEADER = 4 + 6 + 6 + 1;
const metaPackr = new Packr({ useRecords: false });

export function encodeEntry(entry: Entry): Buffer {
  const out = Buffer.allocUnsafe(ENTRY_HEADER + entry.data.length);
  out.writeUIntLE(entry.term, 4, 6);
  out.writeUIntLE(entry.index, 10, 6);
  out.writeUInt8(entry.type, 16);
  out.set(entry.data, ENTRY_HEADER);
  out.writeUInt32LE(crc32c(out.subarray(4)), 0);
  return out;
}

/** Decodes a record stored under `index`; returns undefined when it is corrupt or misplaced. */
export function decodeEntry(record: Uint8Array, index: number): Entry | undefined {
  if (record.length < ENTRY_HEADER) return undefined;
  const buf = Buffer.from(record.buffer, record.byteOffset, record.length);
  if (buf.readUInt32LE(0) !== crc32c(buf.subarray(4))) return undefined;
  const storedIndex = buf.readUIntLE(10, 6);
  const type = buf.readUInt8(16);
  if (storedIndex !== index || (type !== ENTRY_NORMAL && type !== ENTRY_CONF_CHANGE)) return undefined;
  // Copy: the caller may keep the entry after LMDB reuses or unmaps the record's memory.
  const data = new Uint8Array(buf.subarray(ENTRY_HEADER));
  return { term: buf.readUIntLE(4, 6), index, type: type as EntryType, data };
}

export function encodeMeta(value: unknown): Buffer {
  const body = metaPackr.pack(value);
  const out = Buffer.allocUnsafe(4 + body.length);
  out.set(body, 4);
  out.writeUInt32LE(crc32c(body), 0);
  return out;
}

/** Returns the decoded value, or undefined when the record fails its checksum. */
export function decodeMeta(record: Uint8Array): unknown {
  if (record.length < 4) return undefined;
  const buf = Buffer.from(record.buffer, record.byteOffset, record.length);
  const body = buf.subarray(4);
  if (buf.readUInt32LE(0) !== crc32c(body)) return undefined;
  return metaPackr.unpack(body);
}

/** Approximate in-memory size of an entry, for byte limits. */
export function entrySize(entry: Entry): number {
  return entry.data.length + 32;
}
