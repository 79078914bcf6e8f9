import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SnapshotMeta } from '../../../src/raft/core/types.js';
import { FileSnapshotStore } from '../../../src/raft/snapshot/file-snapshot-store.js';
import type { SnapshotAckMessage, SnapshotChunkMessage } from '../../../src/raft/snapshot/install-messages.js';
import { SnapshotInstaller } from '../../../src/raft/snapshot/snapshot-installer.js';
import { SnapshotSender } from '../../../src/raft/snapshot/snapshot-sender.js';
import { waitFor } from '../transport/wait.js';

const membership = { voters: [{ id: 'L', address: 'a:1' }], learners: [{ id: 'F', address: 'b:2' }] };

describe('chunked InstallSnapshot between a sender and an installer', () => {
  let dir: string;
  let leaderStore: FileSnapshotStore;
  let followerStore: FileSnapshotStore;
  let sender: SnapshotSender | undefined;
  let installer: SnapshotInstaller | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wire-raft-xfer-'));
    leaderStore = await FileSnapshotStore.open(join(dir, 'leader'));
    followerStore = await FileSnapshotStore.open(join(dir, 'follower'));
  });
  afterEach(async () => {
    sender?.stop();
    await installer?.stop();
    await leaderStore.close();
    await followerStore.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function leaderSnapshot(bytes: Buffer): Promise<SnapshotMeta> {
    const w = await leaderStore.create(50, 3, membership);
    await w.write(bytes);
    return w.commit();
  }

  /** Wires the two together through a link that drops the chunks `drop` picks (by send count). */
  function connect(drop: (n: number, chunk: SnapshotChunkMessage) => boolean, maxSnapshotBytes = 1 << 20) {
    const completed: SnapshotMeta[] = [];
    const failures: string[] = [];
    const dropped: string[] = [];
    const acks: SnapshotAckMessage[] = [];
    let sent = 0;
    installer = new SnapshotInstaller({
      self: 'F',
      store: followerStore,
      maxSnapshotBytes,
      send: (_to, ack) => {
        acks.push(ack);
        setImmediate(() => sender?.onAck('F', ack));
      },
      onComplete: (_from, _term, meta) => completed.push(meta),
      onError: (err) => failures.push(err.message),
      onDropped: (_from, reason) => dropped.push(reason),
    });
    sender = new SnapshotSender({
      self: 'L',
      chunkBytes: 1000,
      window: 3,
      resendMs: 50,
      giveUpMs: 5000,
      read: (meta, offset, length) => leaderStore.read(meta, offset, length),
      send: (_to, chunk) => {
        if (!drop(sent++, chunk)) setImmediate(() => installer?.onChunk(chunk));
      },
      onFailure: (_to, reason) => failures.push(reason),
      now: () => Date.now(),
    });
    return { completed, failures, dropped, acks, sentCount: () => sent };
  }

  it('streams a snapshot in chunks and the follower seals an identical copy', async () => {
    const bytes = randomBytes(10_500);
    const meta = await leaderSnapshot(bytes);
    const link = connect(() => false);
    sender!.start('F', 3, meta);
    await waitFor('completion', () => link.completed.length === 1);
    expect(link.completed[0]).toEqual(meta);
    expect(followerStore.latest()).toEqual(meta);
    expect(Buffer.from(await followerStore.read(meta, 0, meta.size))).toEqual(bytes);
    expect(link.sentCount()).toBe(11);
    await waitFor('sender done', () => sender!.active().length === 0);
  });

  it('resumes from the acknowledged offset after chunks are lost', async () => {
    const bytes = randomBytes(20_000);
    const meta = await leaderSnapshot(bytes);
    const lost = new Set<number>();
    // Lose the first delivery of chunks at offsets 3000 and 11000, and every chunk once in a while.
    const link = connect((n, chunk) => {
      if ((chunk.offset === 3000 || chunk.offset === 11_000) && !lost.has(chunk.offset)) {
        lost.add(chunk.offset);
        return true;
      }
      return n % 7 === 6;
    });
    sender!.start('F', 3, meta);
    await waitFor('completion despite loss', () => link.completed.length === 1, 10_000);
    expect(Buffer.from(await followerStore.read(meta, 0, meta.size))).toEqual(bytes);
    expect(link.sentCount()).toBeGreaterThan(20);
    expect(link.acks.some((a) => a.chunkOffset > a.received)).toBe(true);
    expect(link.failures).toEqual([]);
  });

  it('reports failure when the follower rejects a snapshot whose data does not match its checksum', async () => {
    const meta = await leaderSnapshot(randomBytes(3000));
    const lying = { ...meta, checksum: (meta.checksum + 1) >>> 0 };
    const link = connect(() => false);
    sender!.start('F', 3, lying);
    await waitFor('failure', () => link.failures.length >= 2);
    expect(link.failures.some((f) => f.includes('refused'))).toBe(true);
    expect(link.completed).toEqual([]);
    expect(followerStore.latest()).toBeUndefined();
  });

  it('refuses a snapshot whose declared size exceeds the configured maximum, before writing anything', async () => {
    const meta = await leaderSnapshot(randomBytes(3000));
    const link = connect(() => false, 2000);
    installer!.onChunk({ type: 'snapshotChunk', from: 'L', to: 'F', term: 3, snapshot: { ...meta, size: 2 ** 50 }, offset: 0, data: new Uint8Array(10) });
    sender!.start('F', 3, meta);
    await waitFor('both refusals', () => link.dropped.length >= 2);
    expect(link.dropped.every((r) => r.includes('exceeds the limit of 2000'))).toBe(true);
    expect(link.acks).toEqual([]);
    expect(link.completed).toEqual([]);
    expect(followerStore.latest()).toBeUndefined();
  });

  it('refuses a chunk reaching past the declared size and still completes from honest chunks', async () => {
    const bytes = randomBytes(3000);
    const meta = await leaderSnapshot(bytes);
    const link = connect(() => false);
    installer!.onChunk({ type: 'snapshotChunk', from: 'L', to: 'F', term: 3, snapshot: meta, offset: 2990, data: new Uint8Array(20) });
    expect(link.dropped).toEqual([`snapshot chunk past the declared size 3000`]);
    sender!.start('F', 3, meta);
    await waitFor('completion', () => link.completed.length === 1);
    expect(Buffer.from(await followerStore.read(meta, 0, meta.size))).toEqual(bytes);
  });
});
