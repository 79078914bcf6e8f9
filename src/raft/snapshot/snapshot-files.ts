/**
 * File layout of the snapshot store: `<index>-<term>.snap` (the state machine's bytes) sealed by
 * `<index>-<term>.meta` (JSON metadata carrying its own CRC-32C). Both are written under temporary
 * names, fsynced and renamed; the meta file is renamed last, so a snapshot without one never existed.
 */
import { join } from 'node:path';
import type { Membership, SnapshotMeta } from '../core/types.js';
import { crc32c } from '../storage/crc32c.js';
import type { StorageFs, StorageFile } from '../storage/storage-fs.js';

export const TEMP_PREFIX = 'tmp-';

export function snapshotName(index: number, term: number): string {
  return `${String(index).padStart(16, '0')}-${String(term).padStart(16, '0')}`;
}

export const dataFile = (dir: string, meta: { index: number; term: number }): string =>
  join(dir, `${snapshotName(meta.index, meta.term)}.snap`);
export const metaFile = (dir: string, meta: { index: number; term: number }): string =>
  join(dir, `${snapshotName(meta.index, meta.term)}.meta`);

export function encodeSnapshotMeta(meta: SnapshotMeta): Buffer {
  const body = JSON.stringify({ index: meta.index, term: meta.term, membership: meta.membership, size: meta.size, checksum: meta.checksum });
  return Buffer.from(JSON.stringify({ body, crc: crc32c(Buffer.from(body)) }));
}

/** Parses a meta file; undefined when it is torn, corrupt or not a snapshot meta. */
export function decodeSnapshotMeta(bytes: Buffer): SnapshotMeta | undefined {
  try {
    const outer: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof outer !== 'object' || outer === null) return undefined;
    const { body, crc } = outer as Record<string, unknown>;
    if (typeof body !== 'string' || crc !== crc32c(Buffer.from(body))) return undefined;
    const m = JSON.parse(body) as Record<string, unknown>;
    if (![m.index, m.term, m.size, m.checksum].every((n) => Number.isSafeInteger(n))) return undefined;
    if (!isMembership(m.membership)) return undefined;
    return { index: m.index as number, term: m.term as number, size: m.size as number, checksum: m.checksum as number, membership: m.membership };
  } catch {
    return undefined;
  }
}

function isMembership(v: unknown): v is Membership {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  const members = (x: unknown): boolean =>
    Array.isArray(x) && x.every((m) => typeof m === 'object' && m !== null && typeof (m as Record<string, unknown>).id === 'string' && typeof (m as Record<string, unknown>).address === 'string');
  return members(o.voters) && members(o.learners);
}

/** Writes and fsyncs the meta under a temporary name, then renames both files into place. */
export async function sealFiles(fs: StorageFs, dir: string, tempData: string, meta: SnapshotMeta): Promise<void> {
  const tempMeta = `${tempData}.meta`;
  const fh = await fs.open(tempMeta, 'w');
  try {
    await writeAll(fh, encodeSnapshotMeta(meta), 0);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tempData, dataFile(dir, meta));
  await fs.rename(tempMeta, metaFile(dir, meta));
  await fs.fsyncDir(dir);
}

/** Writes all of `bytes` at `position` (a write may take fewer bytes than it is given). */
export async function writeAll(fh: StorageFile, bytes: Uint8Array, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await fh.write(bytes, written, bytes.length - written, position + written);
    written += bytesWritten;
  }
}

/** CRC-32C and size of a file, read in 1 MiB pieces. */
export async function checksumFile(fs: StorageFs, path: string): Promise<{ size: number; checksum: number }> {
  const fh = await fs.open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let crc = 0;
    let size = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, size);
      if (bytesRead === 0) break;
      crc = crc32c(buf.subarray(0, bytesRead), crc);
      size += bytesRead;
    }
    return { size, checksum: crc };
  } finally {
    await fh.close();
  }
}

export async function readMetaFile(fs: StorageFs, path: string): Promise<SnapshotMeta | undefined> {
  try {
    return decodeSnapshotMeta(await fs.readFile(path));
  } catch {
    return undefined;
  }
}
