/**
 * Follower side of chunked InstallSnapshot: writes the leader's chunks into the snapshot store,
 * acknowledges how much it holds, and once the whole snapshot is sealed (size and checksum verified)
 * hands it to the driver, which steps the core's `snapshot` message. Chunks are handled one at a time.
 * A peer's declared size is not trusted: it is bounded by `maxSnapshotBytes`, and every chunk must fall
 * inside it (the receiver also refuses bytes past what it holds, and seal checks size and checksum).
 */
import type { NodeId, SnapshotMeta } from '../core/types.js';
import type { SnapshotReceiver, SnapshotStore } from '../ports.js';
import type { SnapshotAckMessage, SnapshotChunkMessage } from './install-messages.js';

export interface SnapshotInstallerOptions {
  self: NodeId;
  store: SnapshotStore;
  /** Largest snapshot accepted, in bytes: a larger declared size is refused before anything is written. */
  maxSnapshotBytes: number;
  send(to: NodeId, message: SnapshotAckMessage): void;
  /** The snapshot is sealed locally: step the core's snapshot message for it. */
  onComplete(from: NodeId, term: number, meta: SnapshotMeta): void;
  onError(err: Error): void;
  /** A chunk was refused as hostile or impossible (the node counts it); nothing was written. */
  onDropped(from: NodeId, reason: string): void;
}

const sameSnapshot = (a: SnapshotMeta, b: SnapshotMeta): boolean => a.index === b.index && a.term === b.term;

export class SnapshotInstaller {
  private receiver: SnapshotReceiver | undefined;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: SnapshotInstallerOptions) {}

  onChunk(chunk: SnapshotChunkMessage): void {
    const { size } = chunk.snapshot;
    if (size > this.options.maxSnapshotBytes) {
      return this.options.onDropped(chunk.from, `snapshot of ${size} bytes exceeds the limit of ${this.options.maxSnapshotBytes}`);
    }
    if (chunk.offset + chunk.data.length > size) return this.options.onDropped(chunk.from, `snapshot chunk past the declared size ${size}`);
    this.queue = this.queue.then(() => this.handle(chunk)).catch((err: unknown) => this.options.onError(err as Error));
  }

  /** Stops taking chunks and deletes a partly received snapshot. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.queue;
    await this.receiver?.abort();
    this.receiver = undefined;
  }

  private async handle(chunk: SnapshotChunkMessage): Promise<void> {
    if (this.stopped) return;
    const meta = chunk.snapshot;
    const ack = (received: number, status: SnapshotAckMessage['status']): void =>
      this.options.send(chunk.from, {
        type: 'snapshotAck',
        from: this.options.self,
        to: chunk.from,
        term: chunk.term,
        index: meta.index,
        snapshotTerm: meta.term,
        received,
        chunkOffset: chunk.offset,
        status,
      });

    if (this.receiver && !sameSnapshot(this.receiver.meta, meta)) {
      await this.receiver.abort();
      this.receiver = undefined;
    }
    if (!this.receiver) {
      const latest = this.options.store.latest();
      if (latest && sameSnapshot(latest, meta) && latest.checksum === meta.checksum) {
        // Already sealed here (our earlier "done" was lost): hand it over again.
        this.options.onComplete(chunk.from, chunk.term, latest);
        return ack(meta.size, 'done');
      }
      if (chunk.offset !== 0) return ack(0, 'progress');
      this.receiver = await this.options.store.receive(meta);
    }
    const receiver = this.receiver;
    const received = await receiver.writeAt(chunk.offset, chunk.data);
    if (received < meta.size) return ack(received, 'progress');
    this.receiver = undefined;
    let sealed: SnapshotMeta;
    try {
      sealed = await receiver.seal();
    } catch (err) {
      this.options.onError(err as Error);
      return ack(0, 'failed');
    }
    this.options.onComplete(chunk.from, chunk.term, sealed);
    ack(meta.size, 'done');
  }
}
