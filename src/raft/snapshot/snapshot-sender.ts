/**
 * Leader side of chunked InstallSnapshot: one transfer per follower, a bounded window of chunks in
 * flight, resumed from the follower's acknowledged offset after a loss or a stall, abandoned (and
 * reported, so the core probes again) when the follower makes no progress for `giveUpMs`.
 * A transfer pins its snapshot in the store from start to end (done, failed, replaced in a new term,
 * cancelled or stopped), so newer snapshots taken meanwhile cannot delete it from under a slow follower.
 */
import type { Clock, TimerHandle } from '../clock.js';
import type { NodeId, SnapshotMeta } from '../core/types.js';
import type { SnapshotAckMessage, SnapshotChunkMessage } from './install-messages.js';

export interface SnapshotSenderOptions {
  self: NodeId;
  chunkBytes: number;
  /** Chunks in flight per transfer. */
  window: number;
  /** Resend from the acknowledged offset when no ack arrives for this long. */
  resendMs: number;
  giveUpMs: number;
  read(meta: SnapshotMeta, offset: number, length: number): Promise<Uint8Array>;
  /** Keeps `meta` from snapshot retention; the returned function releases it. */
  pin(meta: SnapshotMeta): () => void;
  send(to: NodeId, message: SnapshotChunkMessage): void;
  /** The transfer failed (follower gave up, snapshot unreadable, no progress). */
  onFailure(to: NodeId, reason: string): void;
  clock: Clock;
}

class Transfer {
  acked = 0;
  next = 0;
  sentEmpty = false;
  lastProgress: number;
  pumping = false;
  repump = false;
  finished = false;

  constructor(
    readonly to: NodeId,
    readonly term: number,
    readonly meta: SnapshotMeta,
    now: number,
    readonly release: () => void,
  ) {
    this.lastProgress = now;
  }
}

export class SnapshotSender {
  private readonly transfers = new Map<NodeId, Transfer>();
  private readonly timer: TimerHandle;

  constructor(private readonly options: SnapshotSenderOptions) {
    this.timer = options.clock.setInterval(() => this.checkStalled(), options.resendMs);
  }

  /**
   * Starts streaming `meta` to `to`, unless a transfer to `to` started in this term is still running: that
   * one finishes first, even when a newer snapshot is offered meanwhile (the core re-offers its newest after
   * each check-quorum round). Restarting it would let a follower slower than the snapshot interval never
   * catch up; a transfer that stalls fails after `giveUpMs`, and the next offer starts afresh.
   */
  start(to: NodeId, term: number, meta: SnapshotMeta): void {
    const current = this.transfers.get(to);
    if (current?.term === term) return;
    if (current) this.finish(current);
    const transfer = new Transfer(to, term, meta, this.options.clock.now(), this.options.pin(meta));
    this.transfers.set(to, transfer);
    void this.pump(transfer);
  }

  onAck(from: NodeId, ack: SnapshotAckMessage): void {
    const t = this.transfers.get(from);
    if (!t || t.meta.index !== ack.index || t.meta.term !== ack.snapshotTerm) return;
    if (ack.status === 'done') return this.finish(t);
    if (ack.status === 'failed') return this.fail(t, 'follower refused the snapshot');
    if (ack.received > t.acked) {
      t.acked = ack.received;
      t.lastProgress = this.options.clock.now();
    }
    // The follower refused a chunk past what it holds: one before it was lost, resume from there.
    if (ack.chunkOffset > ack.received && t.next > ack.received) t.next = ack.received;
    void this.pump(t);
  }

  /** Abandons the transfer to `to`, if any, without reporting a failure (the peer was removed). */
  cancel(to: NodeId): void {
    const t = this.transfers.get(to);
    if (t) this.finish(t);
  }

  /** Active transfers, by follower. */
  active(): NodeId[] {
    return [...this.transfers.keys()];
  }

  stop(): void {
    this.options.clock.clearInterval(this.timer);
    for (const t of this.transfers.values()) this.finish(t);
  }

  private windowBytes(): number {
    return this.options.chunkBytes * this.options.window;
  }

  private async pump(t: Transfer): Promise<void> {
    if (t.pumping) {
      t.repump = true;
      return;
    }
    t.pumping = true;
    try {
      do {
        t.repump = false;
        while (!t.finished && (t.next < t.meta.size || (t.meta.size === 0 && !t.sentEmpty)) && t.next - t.acked < this.windowBytes()) {
          const offset = t.next;
          const data = await this.options.read(t.meta, offset, this.options.chunkBytes);
          if (t.finished) return;
          if (offset !== t.next) continue; // rewound while reading
          t.next = offset + data.length;
          t.sentEmpty = true;
          this.options.send(t.to, { type: 'snapshotChunk', from: this.options.self, to: t.to, term: t.term, snapshot: t.meta, offset, data });
        }
      } while (t.repump && !t.finished);
    } catch (err) {
      this.fail(t, `cannot read snapshot ${t.meta.index}: ${(err as Error).message}`);
    } finally {
      t.pumping = false;
    }
  }

  private checkStalled(): void {
    const now = this.options.clock.now();
    for (const t of this.transfers.values()) {
      if (now - t.lastProgress > this.options.giveUpMs) {
        this.fail(t, `no progress for ${this.options.giveUpMs} ms`);
      } else if (now - t.lastProgress >= this.options.resendMs) {
        // Nothing acknowledged lately: assume the window was lost and resend it.
        t.next = t.acked;
        t.sentEmpty = false;
        void this.pump(t);
      }
    }
  }

  private finish(t: Transfer): void {
    t.finished = true;
    t.release();
    if (this.transfers.get(t.to) === t) this.transfers.delete(t.to);
  }

  private fail(t: Transfer, reason: string): void {
    if (t.finished) return;
    this.finish(t);
    this.options.onFailure(t.to, reason);
  }
}
