/**
 * The byte format of a state snapshot, streamed in chunks:
 *
 *   "WIREFSM1"  u32 header length  header (msgpack: format, appliedIndex, appliedTerm, clusterId)
 *   frames:     u32 length (> 0)   msgpack [keyspace, key, value bytes]      — keyspace by keyspace, keys in order
 *   trailer:    u32 0              u48 entry count    u32 CRC-32C of every byte before it
 *
 * All integers big-endian. The reader checks everything as it goes and the checksum at the end, so whoever
 * consumes its entries must keep them invisible until `readSnapshot` resolves (restore writes them to a
 * fresh environment that is thrown away on any error).
 */
import { WireError } from '../core/errors.js';
import { crc32c } from '../raft/storage/crc32c.js';
import { packr } from './codec.js';
import { isSnapshotKeyspace, isStateKey, type KeyspaceName, type StateKey } from './keyspaces.js';

export const SNAPSHOT_MAGIC = Buffer.from('WIREFSM1', 'ascii');
export const SNAPSHOT_FORMAT = 1;
/** One frame holds one record; a record is a command's worth of data at most, far below this. */
export const MAX_FRAME_BYTES = 16 << 20;
const MAX_HEADER_BYTES = 64 << 10;
const DEFAULT_CHUNK_BYTES = 64 << 10;

export interface SnapshotHeader {
  readonly format: number;
  /** The state's applied index and term when the snapshot was taken. */
  readonly appliedIndex: number;
  readonly appliedTerm: number;
  readonly clusterId: string | null;
}

export interface SnapshotEntry {
  readonly keyspace: KeyspaceName;
  readonly key: StateKey;
  readonly value: Uint8Array;
}

/** A snapshot that cannot be trusted: damaged, cut short, or of a format this node does not read. */
export class CorruptSnapshotError extends WireError {
  constructor(reason: string, details: Record<string, unknown> = {}) {
    super('INVALID_INPUT', `snapshot refused: ${reason}`, { reason, ...details });
    this.name = 'CorruptSnapshotError';
  }
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(n, 0);
  return b;
}

/** Streams `entries` after a header, in chunks of about `chunkBytes`, with the trailer and checksum last. */
export async function* encodeSnapshot(header: SnapshotHeader, entries: Iterable<SnapshotEntry>, chunkBytes = DEFAULT_CHUNK_BYTES): AsyncGenerator<Uint8Array> {
  let crc = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const add = (b: Buffer): void => {
    crc = crc32c(b, crc);
    pending.push(b);
    pendingBytes += b.length;
  };
  const take = (): Buffer => {
    const out = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    return out;
  };
  const head = packr.pack(header);
  add(SNAPSHOT_MAGIC);
  add(u32(head.length));
  add(head);
  let count = 0;
  for (const e of entries) {
    const frame = packr.pack([e.keyspace, e.key, e.value]);
    if (frame.length > MAX_FRAME_BYTES) throw new WireError('INTERNAL', `record ${e.keyspace}/${JSON.stringify(e.key)} is larger than a snapshot frame`);
    add(u32(frame.length));
    add(frame);
    count++;
    if (pendingBytes >= chunkBytes) yield take();
  }
  add(u32(0));
  const countBytes = Buffer.alloc(6);
  countBytes.writeUIntBE(count, 0, 6);
  add(countBytes);
  pending.push(u32(crc));
  pendingBytes += 4;
  yield take();
}

/** Bytes received but not yet parsed. */
class ByteQueue {
  private parts: Buffer[] = [];
  private size = 0;
  consumed = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    this.size += chunk.length;
  }

  get length(): number {
    return this.size;
  }

  take(n: number): Buffer {
    const all = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.parts = rest.length > 0 ? [rest] : [];
    this.size = rest.length;
    this.consumed += n;
    return out;
  }
}

type Step = { need: number; state: 'magic' | 'headerLength' | 'header' | 'frameLength' | 'frame' | 'count' | 'checksum' };

function decodeHeader(bytes: Buffer): SnapshotHeader {
  let h: unknown;
  try {
    h = packr.unpack(bytes);
  } catch {
    throw new CorruptSnapshotError('the header cannot be decoded');
  }
  const header = h as Partial<SnapshotHeader> | null;
  if (typeof header !== 'object' || header === null) throw new CorruptSnapshotError('the header is not an object');
  if (header.format !== SNAPSHOT_FORMAT) throw new CorruptSnapshotError(`format ${String(header.format)} is not one this node reads (${SNAPSHOT_FORMAT})`);
  const isIndex = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
  if (!isIndex(header.appliedIndex) || !isIndex(header.appliedTerm)) throw new CorruptSnapshotError('the header has no valid applied index and term');
  if (header.clusterId !== null && typeof header.clusterId !== 'string') throw new CorruptSnapshotError('the header has an invalid cluster id');
  return { format: header.format, appliedIndex: header.appliedIndex, appliedTerm: header.appliedTerm, clusterId: header.clusterId };
}

function decodeFrame(bytes: Buffer, ordinal: number): SnapshotEntry {
  let f: unknown;
  try {
    f = packr.unpack(bytes);
  } catch {
    throw new CorruptSnapshotError(`record ${ordinal} cannot be decoded`, { record: ordinal });
  }
  if (!Array.isArray(f) || f.length !== 3) throw new CorruptSnapshotError(`record ${ordinal} is not a [keyspace, key, value] triple`, { record: ordinal });
  const [keyspace, key, value] = f as [unknown, unknown, unknown];
  if (!isSnapshotKeyspace(keyspace)) throw new CorruptSnapshotError(`record ${ordinal} names an unknown keyspace ${JSON.stringify(keyspace)}`, { record: ordinal });
  if (!isStateKey(key)) throw new CorruptSnapshotError(`record ${ordinal} has an invalid key`, { record: ordinal });
  if (!(value instanceof Uint8Array)) throw new CorruptSnapshotError(`record ${ordinal} has no value bytes`, { record: ordinal });
  return { keyspace, key, value };
}

/**
 * Parses a snapshot stream, handing `onEntries` the records of each chunk received.
 * Rejects with a `CorruptSnapshotError` (after some `onEntries` calls, maybe) unless the stream is whole.
 */
export async function readSnapshot(
  data: AsyncIterable<Uint8Array>,
  onEntries: (entries: SnapshotEntry[]) => void | Promise<void>,
): Promise<{ header: SnapshotHeader; count: number }> {
  const q = new ByteQueue();
  let crc = 0;
  let header: SnapshotHeader | undefined;
  let count = 0;
  let step: Step = { need: SNAPSHOT_MAGIC.length, state: 'magic' };
  let done = false;
  const take = (n: number, checksummed = true): Buffer => {
    const b = q.take(n);
    if (checksummed) crc = crc32c(b, crc);
    return b;
  };
  for await (const chunk of data) {
    if (done) {
      if (chunk.length > 0) throw new CorruptSnapshotError('bytes follow the trailer');
      continue;
    }
    q.push(chunk);
    const batch: SnapshotEntry[] = [];
    while (!done && q.length >= step.need) {
      switch (step.state) {
        case 'magic':
          if (!take(step.need).equals(SNAPSHOT_MAGIC)) throw new CorruptSnapshotError('it does not start with the Wire state snapshot marker');
          step = { need: 4, state: 'headerLength' };
          break;
        case 'headerLength': {
          const n = take(4).readUInt32BE(0);
          if (n === 0 || n > MAX_HEADER_BYTES) throw new CorruptSnapshotError(`a header of ${n} bytes`);
          step = { need: n, state: 'header' };
          break;
        }
        case 'header':
          header = decodeHeader(take(step.need));
          step = { need: 4, state: 'frameLength' };
          break;
        case 'frameLength': {
          const n = take(4).readUInt32BE(0);
          if (n > MAX_FRAME_BYTES) throw new CorruptSnapshotError(`a record of ${n} bytes, over the limit of ${MAX_FRAME_BYTES}`, { record: count });
          step = n === 0 ? { need: 6, state: 'count' } : { need: n, state: 'frame' };
          break;
        }
        case 'frame':
          batch.push(decodeFrame(take(step.need), count));
          count++;
          step = { need: 4, state: 'frameLength' };
          break;
        case 'count': {
          const declared = take(6).readUIntBE(0, 6);
          if (declared !== count) throw new CorruptSnapshotError(`the trailer counts ${declared} records, the stream held ${count}`);
          step = { need: 4, state: 'checksum' };
          break;
        }
        case 'checksum': {
          const expected = take(4, false).readUInt32BE(0);
          if (expected !== crc) throw new CorruptSnapshotError(`checksum mismatch (stored ${expected.toString(16)}, computed ${crc.toString(16)})`);
          done = true;
          break;
        }
      }
    }
    if (done && q.length > 0) throw new CorruptSnapshotError('bytes follow the trailer');
    if (batch.length > 0) await onEntries(batch);
  }
  if (!done || !header) throw new CorruptSnapshotError(`the stream ends after ${q.consumed + q.length} bytes, before its trailer`);
  return { header, count };
}
