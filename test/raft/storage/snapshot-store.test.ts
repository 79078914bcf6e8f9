import { randomBytes } from 'node:crypto';
import { mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Membership, SnapshotMeta } from '../../../src/raft/core/types.js';
import { FileSnapshotStore } from '../../../src/raft/snapshot/file-snapshot-store.js';
import { crc32c } from '../../../src/raft/storage/crc32c.js';

const membership: Membership = { voters: [{ id: 'a', address: '127.0.0.1:1' }], learners: [{ id: 'b', address: '127.0.0.1:2' }] };

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const c of it) parts.push(c);
  return Buffer.concat(parts);
}

async function writeSnapshot(store: FileSnapshotStore, index: number, data: Buffer, pieces = 3): Promise<SnapshotMeta> {
  const w = await store.create(index, 2, membership);
  const step = Math.ceil(data.length / pieces) || 1;
  for (let o = 0; o < data.length; o += step) await w.write(data.subarray(o, o + step));
  return w.commit();
}

describe('file snapshot store', () => {
  let dir: string;
  const stores: FileSnapshotStore[] = [];
  const openStore = async (retain?: number): Promise<FileSnapshotStore> => {
    const s = await FileSnapshotStore.open(dir, { retain, readChunkBytes: 1000 });
    stores.push(s);
    return s;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wire-raft-snap-'));
  });
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes, seals and streams a snapshot back with its metadata', async () => {
    const store = await openStore();
    const data = randomBytes(10_000);
    const meta = await writeSnapshot(store, 10, data);
    expect(meta).toEqual({ index: 10, term: 2, membership, size: 10_000, checksum: crc32c(data) });
    expect(store.latest()).toEqual(meta);
    expect(await collect(store.open(meta))).toEqual(data);
    expect(Buffer.from(await store.read(meta, 9_000, 5_000))).toEqual(data.subarray(9_000));
    const reopened = await openStore();
    expect(reopened.latest()).toEqual(meta);
  });

  it('keeps only the newest snapshots (retention)', async () => {
    const store = await openStore(2);
    for (const index of [5, 9, 14]) await writeSnapshot(store, index, randomBytes(100));
    expect(store.list().map((m) => m.index)).toEqual([9, 14]);
    expect((await readdir(dir)).sort()).toHaveLength(4);
  });

  it('keeps a pinned snapshot past retention, and deletes it at the first seal after its last pin is released', async () => {
    const store = await openStore(1);
    const sent = await writeSnapshot(store, 5, randomBytes(500));
    const releaseA = store.pin(sent);
    const releaseB = store.pin(sent);
    for (const index of [9, 14, 20]) await writeSnapshot(store, index, randomBytes(100));
    expect(store.list().map((m) => m.index)).toEqual([5, 20]);
    expect((await store.read(sent, 0, 10)).length).toBe(10);
    releaseA();
    releaseA();
    await writeSnapshot(store, 25, randomBytes(100));
    expect(store.list().map((m) => m.index)).toEqual([5, 25]);
    releaseB();
    expect(store.pinned()).toBe(0);
    await writeSnapshot(store, 30, randomBytes(100));
    expect(store.list().map((m) => m.index)).toEqual([30]);
    expect((await readdir(dir)).sort()).toHaveLength(2);
  });

  it('an aborted or unsealed snapshot leaves nothing behind', async () => {
    const store = await openStore();
    const w = await store.create(3, 1, membership);
    await w.write(randomBytes(50));
    await w.abort();
    const w2 = await store.create(4, 1, membership);
    await w2.write(randomBytes(50));
    expect(store.latest()).toBeUndefined();
    const reopened = await openStore();
    expect(reopened.latest()).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
    await w2.abort();
  });

  it('detects a checksum mismatch on open and falls back to the previous snapshot', async () => {
    const store = await openStore();
    const older = await writeSnapshot(store, 5, randomBytes(3000));
    const newer = await writeSnapshot(store, 8, randomBytes(3000));
    const file = join(dir, (await readdir(dir)).find((n) => n.startsWith(String(8).padStart(16, '0')) && n.endsWith('.snap'))!);
    const fh = await open(file, 'r+');
    await fh.write(Buffer.from([0xde, 0xad]), 0, 2, 1234);
    await fh.close();
    await expect(collect(store.open(newer))).rejects.toMatchObject({ code: 'CORRUPT_STORAGE' });
    const reopened = await openStore();
    expect(reopened.openReport.discarded.map((m) => m.index)).toEqual([8]);
    expect(reopened.latest()).toEqual(older);
  });

  it('ignores a torn meta file', async () => {
    const store = await openStore();
    const meta = await writeSnapshot(store, 5, randomBytes(300));
    await writeFile(join(dir, `${String(9).padStart(16, '0')}-${String(2).padStart(16, '0')}.meta`), '{"body":"{\\"index\\":9');
    const reopened = await openStore();
    expect(reopened.latest()).toEqual(meta);
  });

  it('receives a snapshot chunk by chunk, skipping duplicates and refusing gaps', async () => {
    const source = await openStore();
    const data = randomBytes(5_000);
    const leaderMeta = await writeSnapshot(source, 20, data);
    const followerDir = await mkdtemp(join(tmpdir(), 'wire-raft-snap-f-'));
    const follower = await FileSnapshotStore.open(followerDir);
    try {
      const rx = await follower.receive(leaderMeta);
      expect(await rx.writeAt(0, await source.read(leaderMeta, 0, 2000))).toBe(2000);
      expect(await rx.writeAt(4000, await source.read(leaderMeta, 4000, 1000))).toBe(2000);
      expect(await rx.writeAt(1000, await source.read(leaderMeta, 1000, 2000))).toBe(3000);
      expect(await rx.writeAt(3000, await source.read(leaderMeta, 3000, 2000))).toBe(5000);
      expect(await rx.seal()).toEqual(leaderMeta);
      expect(follower.latest()).toEqual(leaderMeta);
      expect(await collect(follower.open(leaderMeta))).toEqual(data);
    } finally {
      await follower.close();
      await rm(followerDir, { recursive: true, force: true });
    }
  });

  it('refuses to seal a received snapshot whose checksum does not match', async () => {
    const store = await openStore();
    const data = randomBytes(1000);
    const rx = await store.receive({ index: 3, term: 1, membership, size: 1000, checksum: (crc32c(data) + 1) >>> 0 });
    await rx.writeAt(0, data);
    await expect(rx.seal()).rejects.toMatchObject({ code: 'CORRUPT_STORAGE' });
    expect(store.latest()).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
  });
});
