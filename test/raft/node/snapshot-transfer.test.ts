import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SnapshotMeta } from '../../../src/raft/core/types.js';
import { FileSnapshotStore } from '../../../src/raft/snapshot/file-snapshot-store.js';
import type { SnapshotAckMessage, SnapshotChunkMessage } from '../../../src/raft/snapshot/install-messages.js';
import { SnapshotInstaller } from '../../../src/raft/snapshot/snapshot-installer.js';
import { systemClock } from '../../../src/raft/clock.js';
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

  async function leaderSnapshot(bytes: Buffer, index = 50): Promise<SnapshotMeta> {
    const w = await leaderStore.create(index, 3, membership);
    await w.write(bytes);
    return w.commit();
  }

  /**
   * Wires the two together through a link that drops the chunks `drop` picks (by send count). While the
   * link is paused, chunks wait in it: `step` delivers those waiting, `resume` them and every later one.
   */
  function connect(drop: (n: number, chunk: SnapshotChunkMessage) => boolean, maxSnapshotBytes = 1 << 20) {
    const completed: SnapshotMeta[] = [];
    const failures: string[] = [];
    const dropped: string[] = [];
    const acks: SnapshotAckMessage[] = [];
    const held: SnapshotChunkMessage[] = [];
    let paused = false;
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
      pin: (meta) => leaderStore.pin(meta),
      send: (_to, chunk) => {
        if (drop(sent++, chunk)) return;
        if (paused) held.push(chunk);
        else setImmediate(() => installer?.onChunk(chunk));
      },
      onFailure: (_to, reason) => failures.push(reason),
      clock: systemClock,
    });
    return {
      completed,
      failures,
      dropped,
      acks,
      sentCount: () => sent,
      held: () => held.length,
      pause: () => (paused = true),
      step: () => {
        for (const chunk of held.splice(0)) setImmediate(() => installer?.onChunk(chunk));
      },
      resume: () => {
        paused = false;
        for (const chunk of held.splice(0)) setImmediate(() => installer?.onChunk(chunk));
      },
    };
  }

  /** Starts sending `meta` over a paused link and lets only the first window through: the transfer is under way. */
  async function firstWindowAcknowledged(link: ReturnType<typeof connect>, meta: SnapshotMeta): Promise<void> {
    link.pause();
    sender!.start('F', 3, meta);
    await waitFor('first window sent', () => link.held() > 0);
    link.step();
    await waitFor('first window acknowledged, the next one sent', () => link.acks.some((a) => a.received > 0) && link.held() > 0);
    expect(link.completed).toEqual([]);
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

  it('finishes a transfer while three newer snapshots are taken, then lets retention delete its snapshot', async () => {
    const bytes = randomBytes(12_000);
    const meta = await leaderSnapshot(bytes);
    const link = connect(() => false);
    await firstWindowAcknowledged(link, meta);
    // Retention keeps 2: without the pin, the second of these deletes the snapshot being sent.
    for (const index of [60, 70, 80]) await leaderSnapshot(randomBytes(100), index);
    expect(leaderStore.list().map((m) => m.index)).toEqual([50, 70, 80]);
    link.resume();
    await waitFor('completion', () => link.completed.length === 1, 10_000);
    expect(link.failures).toEqual([]);
    expect(Buffer.from(await followerStore.read(meta, 0, meta.size))).toEqual(bytes);
    await waitFor('sender done', () => sender!.active().length === 0);
    expect(leaderStore.pinned()).toBe(0);
    await leaderSnapshot(randomBytes(100), 90);
    expect(leaderStore.list().map((m) => m.index)).toEqual([80, 90]);
  });

  it('releases the pin of a transfer that fails, is replaced, cancelled or stopped', async () => {
    const meta = await leaderSnapshot(randomBytes(3000));
    const link = connect(() => false);
    sender!.start('F', 3, { ...meta, checksum: (meta.checksum + 1) >>> 0 });
    await waitFor('refusal', () => link.failures.length >= 1);
    expect(leaderStore.pinned()).toBe(0);

    link.pause();
    sender!.start('F', 3, meta);
    expect(leaderStore.pinned()).toBe(1);
    const newer = await leaderSnapshot(randomBytes(3000), 60);
    sender!.start('F', 4, newer);
    expect([leaderStore.pinned(), sender!.active()]).toEqual([1, ['F']]);
    sender!.cancel('F');
    expect([leaderStore.pinned(), sender!.active()]).toEqual([0, []]);
    sender!.start('F', 4, newer);
    sender!.start('G', 4, meta);
    expect(leaderStore.pinned()).toBe(2);
    sender!.stop();
    expect([leaderStore.pinned(), sender!.active()]).toEqual([0, []]);
  });

  it('keeps streaming the snapshot it started when a newer one is offered in the same term, and completes', async () => {
    const bytes = randomBytes(12_000);
    const meta = await leaderSnapshot(bytes);
    const link = connect(() => false);
    await firstWindowAcknowledged(link, meta);
    // The core offers its newest snapshot again after a check-quorum round without an answer.
    sender!.start('F', 3, await leaderSnapshot(randomBytes(100), 60));
    link.resume();
    await waitFor('completion', () => link.completed.length === 1, 10_000);
    expect(link.completed).toEqual([meta]);
    expect(Buffer.from(await followerStore.read(meta, 0, meta.size))).toEqual(bytes);
    expect(link.failures).toEqual([]);
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
