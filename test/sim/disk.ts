/**
 * A node's simulated durable storage with a crash model. The log and hard state go to a write-ahead
 * log of checksummed records; a write is durable only once an fsync issued after it completes. At a
 * crash the unsynced records are lost, except that a prefix of them may have reached the platter and
 * the next one may be torn (half written). Recovery verifies every record's checksum and drops a torn
 * tail, as a real WAL reader must. Snapshot files are written atomically (temp file + rename).
 */
import { pack, unpack } from 'msgpackr';
import { EMPTY_HARD_STATE, type Entry, type HardState, type SnapshotMeta } from '../../src/raft/core/types.js';
import { crc32c } from '../../src/raft/storage/crc32c.js';
import type { Prng } from './prng.js';
import { SimLog } from './sim-log.js';

/** Snapshots kept on disk. */
const SNAPSHOT_RETENTION = 3;

export type WalRecord =
  | { readonly kind: 'hardState'; readonly hs: HardState }
  | { readonly kind: 'append'; readonly entries: readonly Entry[] }
  | { readonly kind: 'compact'; readonly index: number }
  | { readonly kind: 'reset'; readonly index: number; readonly term: number };

interface StoredRecord {
  bytes: Uint8Array;
  readonly crc: number;
  durable: boolean;
}

export interface SnapshotFile {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

export interface Recovered {
  readonly hardState: HardState;
  readonly log: SimLog;
  readonly snapshot: SnapshotFile | undefined;
  /** A torn record was found and dropped. */
  readonly tornDropped: boolean;
}

export interface CrashReport {
  readonly lost: number;
  readonly survived: number;
  readonly torn: boolean;
}

export class SimDisk {
  private wal: StoredRecord[] = [];
  /** Sealed snapshots, oldest first, at most SNAPSHOT_RETENTION of them. */
  private snapshotFiles: SnapshotFile[] = [];
  /** Simulated fsync latency bounds (ms); raised to model a slow disk. */
  fsyncMin = 0;
  fsyncMax = 1;

  /** The latest snapshot. */
  get snapshot(): SnapshotFile | undefined {
    return this.snapshotFiles[this.snapshotFiles.length - 1];
  }

  /** A retained snapshot (a leader may still be sending an older one when it takes a new one). */
  findSnapshot(index: number, term: number): SnapshotFile | undefined {
    return this.snapshotFiles.find((f) => f.meta.index === index && f.meta.term === term);
  }

  /** Writes a record to the page cache: lost at a crash until an fsync covers it. */
  write(record: WalRecord): void {
    const bytes = pack(record) as Uint8Array;
    this.wal.push({ bytes, crc: crc32c(bytes), durable: false });
  }

  /** Marks the first `count` records durable: what an fsync issued after writing them guarantees. */
  syncThrough(count: number): void {
    for (let i = 0; i < count && i < this.wal.length; i++) this.wal[i]!.durable = true;
  }

  /** Records written so far (an fsync issued now covers this many). */
  get written(): number {
    return this.wal.length;
  }

  /** Whether every record written is durable. */
  allDurable(): boolean {
    return this.wal.every((r) => r.durable);
  }

  /** Writes a snapshot file atomically; it is durable at once (written and synced before the rename). */
  saveSnapshot(file: SnapshotFile): void {
    this.snapshotFiles = [...this.snapshotFiles, file].slice(-SNAPSHOT_RETENTION);
  }

  /**
   * Installs a leader's snapshot: the snapshot file and a WAL that holds only `hardState` and the
   * snapshot's compaction point, replaced together and durably (what a real driver does by writing the
   * new WAL aside and renaming it). The old WAL's records, synced or not, describe a log it replaces.
   */
  installSnapshot(file: SnapshotFile, hardState: HardState): void {
    this.snapshotFiles = [file];
    this.wal = [];
    this.write({ kind: 'hardState', hs: hardState });
    this.write({ kind: 'reset', index: file.meta.index, term: file.meta.term });
    this.syncThrough(this.wal.length);
  }

  /** Power loss: keeps durable records, a random prefix of the rest, and maybe tears the next one. */
  crash(prng: Prng, tearProbability: number): CrashReport {
    let firstUnsynced = this.wal.findIndex((r) => !r.durable);
    if (firstUnsynced < 0) firstUnsynced = this.wal.length;
    const unsynced = this.wal.length - firstUnsynced;
    const survived = unsynced === 0 ? 0 : prng.int(unsynced + 1);
    const keep = firstUnsynced + survived;
    let torn = false;
    const next = this.wal[keep];
    if (next !== undefined && next.bytes.length > 1 && prng.chance(tearProbability)) {
      // The next record reached the disk only in part: its checksum will not match.
      next.bytes = next.bytes.slice(0, 1 + prng.int(next.bytes.length - 1));
      this.wal.length = keep + 1;
      torn = true;
    } else {
      this.wal.length = keep;
    }
    for (const r of this.wal) r.durable = true;
    return { lost: unsynced - survived - (torn ? 1 : 0), survived, torn };
  }

  /** Reads the WAL back, stopping at (and deleting) the first record that fails its checksum. */
  recover(): Recovered {
    let hardState = EMPTY_HARD_STATE;
    const log = new SimLog();
    const latest = this.snapshot;
    if (latest !== undefined) log.reset(latest.meta.index, latest.meta.term);
    let tornDropped = false;
    const valid: StoredRecord[] = [];
    let afterSnapshotReset = latest === undefined;
    for (const stored of this.wal) {
      const record = decode(stored);
      if (record === null) {
        tornDropped = true;
        break;
      }
      valid.push(stored);
      switch (record.kind) {
        case 'hardState':
          hardState = record.hs;
          break;
        case 'reset':
          log.reset(record.index, record.term);
          afterSnapshotReset = true;
          break;
        case 'compact':
          log.compact(Math.min(record.index, log.lastIndex()));
          break;
        case 'append':
          appendRecovered(log, record.entries, afterSnapshotReset);
          break;
      }
    }
    this.wal = valid;
    return { hardState, log, snapshot: latest, tornDropped };
  }
}

function decode(stored: StoredRecord): WalRecord | null {
  if (crc32c(stored.bytes) !== stored.crc) return null;
  return unpack(stored.bytes) as WalRecord;
}

/**
 * Replays an append. Before the first reset record the log starts at the snapshot our own node took,
 * so entries it already compacted are skipped.
 */
function appendRecovered(log: SimLog, entries: readonly Entry[], afterReset: boolean): void {
  const usable = entries.filter((e) => e.index > log.firstIndex() - 1);
  if (usable.length === 0) return;
  if (!afterReset && usable[0]!.index > log.lastIndex() + 1) return;
  log.append(usable.map((e) => ({ ...e, data: new Uint8Array(e.data) })));
}
