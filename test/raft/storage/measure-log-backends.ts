/**
 * Measures log backends on this disk (run: `npx tsx test/raft/storage/measure-log-backends.ts`).
 * Each round appends `batch` 100-byte entries and waits until they are durable, one round after another,
 * as the Raft driver does (one persist step at a time). `wal` is Wire's WalStore writing the entries and
 * a hard state in the same turn, as the driver does for a Ready (one group commit); `segmentFile` is the
 * floor it is built on (one append + fdatasync of a bare file); the LMDB figures are what it replaced.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { ENTRY_NORMAL, type Entry } from '../../../src/raft/core/types.js';
import { WalStore } from '../../../src/raft/storage/wal-store.js';

const ENTRY = Buffer.alloc(100, 7);
const ROUNDS_BY_BATCH: ReadonlyArray<[number, number]> = [[1, 1500], [10, 1000], [100, 300], [1000, 60]];

async function lmdbRun(dir: string, batch: number, rounds: number, overlapping: boolean): Promise<number> {
  const db = openLmdb({ path: join(dir, `l-${batch}-${overlapping}`), encoding: 'binary', overlappingSync: overlapping, separateFlushed: overlapping });
  let key = 1;
  const start = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    let last: Promise<boolean> | undefined;
    for (let i = 0; i < batch; i++) last = db.put(key++, ENTRY);
    const p = last as Promise<boolean> & { flushed?: Promise<boolean> };
    await (overlapping ? p.flushed : p);
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  await db.close();
  return (rounds * batch) / secs;
}

async function segmentRun(dir: string, batch: number, rounds: number): Promise<number> {
  const fh = await open(join(dir, `seg-${batch}`), 'a');
  try {
    const start = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) {
      const parts: Buffer[] = [];
      for (let i = 0; i < batch; i++) {
        const header = Buffer.alloc(8);
        header.writeUInt32LE(ENTRY.length, 0);
        parts.push(header, ENTRY);
      }
      await fh.write(Buffer.concat(parts));
      await fh.datasync();
    }
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    return (rounds * batch) / secs;
  } finally {
    await fh.close();
  }
}

async function walRun(dir: string, batch: number, rounds: number): Promise<{ perSecond: number; syncsPerRound: number }> {
  const wal = await WalStore.open(join(dir, `wal-${batch}`));
  try {
    let index = 1;
    const start = process.hrtime.bigint();
    const before = wal.stats();
    for (let r = 0; r < rounds; r++) {
      const entries: Entry[] = [];
      for (let i = 0; i < batch; i++) entries.push({ index: index++, term: 1, type: ENTRY_NORMAL, data: ENTRY });
      await Promise.all([wal.append(entries), wal.saveHardState({ term: 1, vote: 'n1', commit: index - 1 })]);
    }
    const secs = Number(process.hrtime.bigint() - start) / 1e9;
    return { perSecond: (rounds * batch) / secs, syncsPerRound: (wal.stats().syncs - before.syncs) / rounds };
  } finally {
    await wal.close();
  }
}

const dir = await mkdtemp(join(tmpdir(), 'wire-logbench-'));
try {
  for (const [batch, rounds] of ROUNDS_BY_BATCH) {
    const sync = await lmdbRun(dir, batch, rounds, false);
    const overlap = await lmdbRun(dir, batch, rounds, true);
    const seg = await segmentRun(dir, batch, rounds);
    const wal = await walRun(dir, batch, rounds);
    console.log(
      JSON.stringify({
        batch,
        lmdbSyncCommit: Math.round(sync),
        lmdbOverlappingFlushed: Math.round(overlap),
        segmentFile: Math.round(seg),
        wal: Math.round(wal.perSecond),
        walFsyncsPerRound: wal.syncsPerRound,
        unit: 'entries/s',
      }),
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
