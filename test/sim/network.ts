/**
 * The simulated network: every message is delayed by a random time (which also reorders messages),
 * and may be lost or duplicated. Links can be cut one direction at a time, which gives symmetric and
 * asymmetric partitions and leader isolation. A message in flight on a link that is cut meanwhile is
 * lost on arrival, as it would be in a real network.
 */
import type { Message, NodeId } from '../../src/raft/core/types.js';
import type { EventQueue } from './clock.js';
import type { Prng } from './prng.js';

/** A message and, for a snapshot message, the snapshot's data the sender's driver streams with it. */
export interface Envelope {
  readonly msg: Message;
  readonly snapshotData?: Uint8Array;
}

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
}

export class SimNetwork {
  faults: LinkFaults = { ...CALM_NETWORK };
  readonly stats: NetworkStats = { sent: 0, delivered: 0, lost: 0, cut: 0, duplicated: 0 };
  /** Scenario tests drop chosen messages with this (true: drop). */
  dropIf: ((msg: Message) => boolean) | null = null;
  /** Directed links that are cut, as "from>to". */
  private readonly cut = new Set<string>();

  constructor(
    private readonly queue: EventQueue,
    private readonly prng: Prng,
    private readonly deliver: (env: Envelope) => void,
    /** Told about every message that never arrives (the sender's driver learns a snapshot stream failed). */
    private readonly onLost: (env: Envelope) => void,
  ) {}

  send(env: Envelope): void {
    this.stats.sent++;
    const { from, to } = env.msg;
    if (this.isCut(from, to) || (this.dropIf !== null && this.dropIf(env.msg))) {
      this.stats.cut++;
      this.onLost(env);
      return;
    }
    if (this.prng.chance(this.faults.loss)) {
      this.stats.lost++;
      this.onLost(env);
      return;
    }
    const copies = this.prng.chance(this.faults.dup) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let c = 0; c < copies; c++) {
      const delay = this.prng.range(this.faults.minDelay, this.faults.maxDelay);
      this.queue.schedule(delay, () => {
        if (this.isCut(from, to)) {
          this.stats.cut++;
          if (c === 0) this.onLost(env);
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

  heal(): void {
    this.cut.clear();
  }

  describeCuts(): string {
    return [...this.cut].sort().join(' ');
  }
}
