/**
 * The simulated network: every frame is delayed by a random time (which also reorders frames), and
 * may be lost or duplicated. Links can be cut one direction at a time, which gives symmetric and
 * asymmetric partitions and leader isolation. A frame in flight on a link that is cut meanwhile is
 * lost on arrival. A frame sent on a cut link is either lost or, as a real connection's send queue
 * holds it until it reconnects, queued (with chance `holdOnCut`, up to QUEUED_PER_LINK) and
 * delivered, stale and reordered, when the link heals. Frames over the transport's size limit are dropped by the sender, as `TcpTransport` does.
 */
import type { NodeId } from '../../src/raft/core/types.js';
import type { WireMessage } from '../../src/raft/snapshot/install-messages.js';
import type { EventQueue } from './clock.js';
import type { Prng } from './prng.js';

/** An encoded frame; `msg` is the sender's message, kept only for tests that drop chosen ones. */
export interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly msg: WireMessage;
  readonly frame: Uint8Array;
}

const QUEUED_PER_LINK = 32;

export interface LinkFaults {
  /** Probability that a message is lost. */
  loss: number;
  /** Probability that a delivered message is delivered twice. */
  dup: number;
  minDelay: number;
  maxDelay: number;
}

export const CALM_NETWORK: LinkFaults = { loss: 0, dup: 0, minDelay: 1, maxDelay: 4 };

export interface NetworkStats {
  sent: number;
  delivered: number;
  lost: number;
  cut: number;
  duplicated: number;
  queued: number;
  redelivered: number;
  oversized: number;
}

export class SimNetwork {
  faults: LinkFaults = { ...CALM_NETWORK };
  readonly stats: NetworkStats = { sent: 0, delivered: 0, lost: 0, cut: 0, duplicated: 0, queued: 0, redelivered: 0, oversized: 0 };
  /** Scenario tests drop chosen messages with this (true: drop). */
  dropIf: ((msg: WireMessage) => boolean) | null = null;
  /** Chance that a frame sent on a cut link is held for redelivery (0 in hand-driven scenarios). */
  holdOnCut = 0;
  /** Frames over this many bytes are dropped by the sender. */
  maxFrameBytes = 1024 * 1024;
  /** Directed links that are cut, as "from>to". */
  private readonly cut = new Set<string>();
  /** Frames held by a cut link's sender until it reconnects. */
  private readonly held = new Map<string, Envelope[]>();

  constructor(
    private readonly queue: EventQueue,
    private readonly prng: Prng,
    private readonly deliver: (env: Envelope) => void,
  ) {}

  send(env: Envelope): void {
    this.stats.sent++;
    const { from, to } = env;
    if (env.frame.length > this.maxFrameBytes) {
      this.stats.oversized++;
      return;
    }
    if (this.dropIf !== null && this.dropIf(env.msg)) {
      this.stats.cut++;
      return;
    }
    if (this.isCut(from, to)) {
      this.stats.cut++;
      const link = `${from}>${to}`;
      const held = this.held.get(link) ?? [];
      if (held.length < QUEUED_PER_LINK && this.prng.chance(this.holdOnCut)) {
        held.push(env);
        this.held.set(link, held);
        this.stats.queued++;
      }
      return;
    }
    if (this.prng.chance(this.faults.loss)) {
      this.stats.lost++;
      return;
    }
    const copies = this.prng.chance(this.faults.dup) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let c = 0; c < copies; c++) {
      const delay = this.prng.range(this.faults.minDelay, this.faults.maxDelay);
      this.queue.schedule(delay, () => {
        if (this.isCut(from, to)) {
          this.stats.cut++;
          return;
        }
        this.stats.delivered++;
        this.deliver(env);
      });
    }
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cut.has(`${from}>${to}`);
  }

  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
  }

  /** Cuts every link between the two groups, both ways. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        this.cutLink(x, y);
        this.cutLink(y, x);
      }
    }
  }

  /** Cuts only the links from `a` to `b`: `b` still talks to `a` but does not hear it. */
  partitionOneWay(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) for (const y of b) this.cutLink(x, y);
  }

  /** Cuts `node` off from everyone in `others`, both ways. */
  isolate(node: NodeId, others: readonly NodeId[]): void {
    this.partition([node], others.filter((o) => o !== node));
  }

  /** Restores every link; frames held by cut links are delivered a little later. */
  heal(): void {
    this.cut.clear();
    for (const frames of this.held.values()) {
      for (const env of frames) {
        this.stats.redelivered++;
        this.queue.schedule(this.prng.range(this.faults.minDelay, this.faults.maxDelay), () => {
          if (this.isCut(env.from, env.to)) return;
          this.stats.delivered++;
          this.deliver(env);
        });
      }
    }
    this.held.clear();
  }

  describeCuts(): string {
    return [...this.cut].sort().join(' ');
  }
}
