/**
 * Liveness without Raft writes: each node's agent renews a lease with the leader over the cluster RPC, and
 * both sides judge time on their own monotonic clock (no clock is compared with another's).
 *
 * - The leader (`LeaseTable`) judges a node dead once it has heard nothing from it for the failover timeout,
 *   counted from the renewal's arrival.
 * - A new leader has heard no one: it waits one lease from taking over before judging a node it has not heard
 *   from since. That is enough: a leader grants a renewal only after a quorum confirmed it leads (a read index),
 *   so every lease the old leader granted was asked for before the quorum moved on, which is at least an
 *   election timeout before the new leader took over; each such lease ends within one lease of that.
 * - The node (`HeldLease`) counts its lease from the moment it *sent* the renewal, which is before the leader
 *   received it: its lease ends at least `failover - lease` before the leader may reassign its tasks. That gap
 *   (half the failover timeout by default) is the margin for clock drift and for stopping its runs.
 *
 * Both are free of I/O: the clock is injected, so a simulation drives them.
 */

/** What the lease holder reports with each renewal: its tasks' stats (never written to Raft). */
export interface TaskStats {
  readonly pipeline: string;
  readonly task: string;
  readonly epoch: number;
  /** `pausing` until the paused run's last reads are checkpointed and committed, then `paused`. */
  readonly state: 'starting' | 'running' | 'pausing' | 'paused' | 'draining' | 'completed' | 'backoff' | 'failed';
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly deadLettered: number;
  readonly filtered: number;
  /** Records per second over the run. */
  readonly rate: number;
  /** Records the source says are left, where it knows. */
  readonly lag: number | null;
  /** Monotonic ms (the node's clock) since its last committed checkpoint, or null before the first. */
  readonly lastCheckpointAgoMs: number | null;
  readonly lastError: string | null;
  readonly restarts: number;
}

export interface LeaseClock {
  now(): number;
}

/** The lease a node holds for a failover timeout: half of it, the rest is the margin. */
export function leaseMsFor(failoverTimeoutMs: number): number {
  return Math.max(1, Math.floor(failoverTimeoutMs / 2));
}

/** How often a node renews: four times per lease, so one or two lost renewals cost nothing. */
export function renewEveryMsFor(failoverTimeoutMs: number): number {
  return Math.max(1, Math.floor(leaseMsFor(failoverTimeoutMs) / 4));
}

interface Heard {
  at: number;
  stats: readonly TaskStats[];
}

/** The leader's view of who is alive. */
export class LeaseTable {
  private readonly heard = new Map<string, Heard>();
  private leadingSince: number | undefined;
  private readonly leaving = new Set<string>();

  private readonly graceMs: number;

  constructor(
    private readonly clock: LeaseClock,
    private readonly failoverTimeoutMs: number,
  ) {
    this.graceMs = leaseMsFor(failoverTimeoutMs);
  }

  /** This node became leader: what earlier leaders heard is unknown, so every node gets one lease. */
  lead(): void {
    this.heard.clear();
    this.leaving.clear();
    this.leadingSince = this.clock.now();
  }

  /** This node no longer leads. */
  follow(): void {
    this.leadingSince = undefined;
    this.heard.clear();
    this.leaving.clear();
  }

  get leading(): boolean {
    return this.leadingSince !== undefined;
  }

  renew(node: string, stats: readonly TaskStats[] | undefined): void {
    this.heard.set(node, { at: this.clock.now(), stats: stats ?? this.heard.get(node)?.stats ?? [] });
    this.leaving.delete(node);
  }

  /** The node is leaving cleanly: it takes no new task (its own are drained by its agent). */
  leave(node: string): void {
    this.leaving.add(node);
  }

  isLeaving(node: string): boolean {
    return this.leaving.has(node);
  }

  /** Whether `node` may still hold its lease: heard within the failover timeout, or not heard yet within one lease of taking over. */
  alive(node: string): boolean {
    if (this.leadingSince === undefined) return false;
    const now = this.clock.now();
    const heard = this.heard.get(node);
    return heard === undefined ? now - this.leadingSince <= this.graceMs : now - heard.at <= this.failoverTimeoutMs;
  }

  /** Whether the leader has heard `node` since it took over (a node never heard is alive only by grace). */
  heardFrom(node: string): boolean {
    return this.heard.has(node);
  }

  stats(node: string): readonly TaskStats[] {
    return this.heard.get(node)?.stats ?? [];
  }
}

/**
 * A node's own lease: its tasks may run only while it holds one. A grant carries the leader's log index: a node
 * whose replica lags may still show it a task the leader has since given away (its earlier lease having run
 * out), so after a gap in its lease it starts runs only once it has applied as far as that grant (`caughtUp`).
 */
export class HeldLease {
  private validUntil = -Infinity;
  private index = 0;

  constructor(
    private readonly clock: LeaseClock,
    private readonly leaseMs: number,
  ) {}

  /** Call as a renewal is sent; pass the result to `granted` once the leader accepts it. */
  sending(): number {
    return this.clock.now();
  }

  granted(sentAt: number, leaderIndex = 0): void {
    // Only a lease taken up again after a gap can meet a task given away meanwhile; while it holds, a busy log's
    // newer index must not keep holding starts back.
    if (sentAt >= this.validUntil) this.index = Math.max(this.index, leaderIndex);
    this.validUntil = Math.max(this.validUntil, sentAt + this.leaseMs);
  }

  /** Whether a replica applied up to `appliedIndex` has everything the leaders that granted this lease had decided. */
  caughtUp(appliedIndex: number): boolean {
    return appliedIndex >= this.index;
  }

  /** Gives the lease up at once (the node leaves, or learns it is not a member). */
  drop(): void {
    this.validUntil = -Infinity;
  }

  valid(): boolean {
    return this.clock.now() < this.validUntil;
  }

  /** Milliseconds left; 0 once expired. */
  remainingMs(): number {
    return Math.max(0, this.validUntil - this.clock.now());
  }
}
