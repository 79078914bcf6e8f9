/**
 * Measures the two candidate log backends on this disk (run: `npx tsx test/raft/storage/measure-log-backends.ts`).
 * Each round appends `batch` 100-byte entries and waits until they are durable, one round after another,
 * as the Raft driver does (one persist step at a time).
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';

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

const dir = await mkdtemp(join(tmpdir(), 'wire-logbench-'));
try {
  for (const [batch, rounds] of ROUNDS_BY_BATCH) {
    const sync = await lmdbRun(dir, batch, rounds, false);
    const overlap = await lmdbRun(dir, batch, rounds, true);
    const seg = await segmentRun(dir, batch, rounds);
    console.log(JSON.stringify({ batch, lmdbSyncCommit: Math.round(sync), lmdbOverlappingFlushed: Math.round(overlap), segmentFile: Math.round(seg), unit: 'entries/s' }));
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
