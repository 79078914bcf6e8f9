/**
 * Simulated clients running a key-value workload (put, get, compare-and-set) against the cluster.
 * Writes are proposed on the node believed to be the leader and retried elsewhere when refused (a
 * refused proposal never entered a log); once accepted a write is never retried: if no answer comes
 * in time it stays in the history as never returned, possibly taking effect at any later time. Reads
 * go through ReadIndex, on the leader or forwarded by a follower, and may be retried freely.
 * Every call and return is stamped with a logical counter that follows the simulated event order
 * exactly, so the history's real-time order is the one the checker needs.
 */
import type { NodeId } from '../../src/raft/core/types.js';
import { NotLeaderError, RaftError } from '../../src/raft/errors.js';
import type { Cluster } from './cluster.js';
import type { KvInput, KvOperation, KvOutput } from './kv-model.js';
import { encodeCommand, type KvApplyResult, type KvCommand } from './kv-store.js';
import type { Prng } from './prng.js';

export interface WorkloadOptions {
  readonly clients: number;
  readonly keys: readonly string[];
  /** Clients start no new operation after this simulated time. */
  readonly stopAt: number;
  /** An accepted write not answered within this long is abandoned (left pending). */
  readonly writeTimeoutMs: number;
  /** One read attempt's time limit before it is retried elsewhere. */
  readonly readAttemptMs: number;
  /** An operation gives up entirely after this long. */
  readonly opTimeoutMs: number;
  /** Chance that a write carries a large value (8–320 KiB, some over the network's 256 KiB frame limit). */
  readonly largeValues: number;
}

interface Recorded {
  client: number;
  input: KvInput;
  output: KvOutput | undefined;
  call: number;
  ret: number;
  /** Simulated times, for the trace. */
  callAt: number;
  retAt: number;
}

export class Workload {
  private readonly records: Recorded[] = [];
  private clock = 0;
  private nextIdentity: number;
  acked = 0;
  abandoned = 0;
  /** The simulated time the latest write was acknowledged (liveness probes look at it). */
  lastAckAt = -1;

  constructor(
    private readonly cluster: Cluster,
    private readonly prng: Prng,
    private readonly opts: WorkloadOptions,
  ) {
    this.nextIdentity = opts.clients;
  }

  /** Starts every client's loop. */
  start(): void {
    for (let c = 0; c < this.opts.clients; c++) {
      const client = { identity: c, seq: 0, lastSeen: new Map<string, string | null>() };
      this.cluster.queue.schedule(this.prng.int(20), () => this.nextOp(client));
    }
  }

  get history(): KvOperation[] {
    return this.records.map((r) => ({ client: r.client, input: r.input, output: r.output, call: r.call, ret: r.ret }));
  }

  /** Describes an operation with its simulated times (for failure reports). */
  describe(op: KvOperation): string {
    const r = this.records.find((x) => x.call === op.call)!;
    return `[${r.callAt}ms..${Number.isFinite(r.retAt) ? `${r.retAt}ms` : 'never'}]`;
  }

  /** Proposes puts of `key` (a new operation after each unknown outcome) until one is acknowledged by `deadline`. */
  probe(key: string, value: string, deadline: number, done: (at: number) => void, attempt = 0): void {
    if (this.cluster.queue.now >= deadline) return;
    const rec = this.begin(this.nextIdentity++, { op: 'put', key, value: `${value}.${attempt}` });
    const cmd: KvCommand = { id: `probe-${value}-${attempt}`, op: 'put', key, value: `${value}.${attempt}` };
    this.write(rec, cmd, deadline, this.leaderHint(), () => done(this.cluster.queue.now), () =>
      this.probe(key, value, deadline, done, attempt + 1),
    );
  }

  private nextOp(client: { identity: number; seq: number; lastSeen: Map<string, string | null> }): void {
    const now = this.cluster.queue.now;
    if (now >= this.opts.stopAt) return;
    const key = this.prng.pick(this.opts.keys);
    const n = client.seq++;
    const value = `${client.identity}.${n}${this.prng.chance(this.opts.largeValues) ? `.${'x'.repeat(this.prng.range(8 * 1024, 320 * 1024))}` : ''}`;
    const id = `c${client.identity}-${n}`;
    const roll = this.prng.next();
    const deadline = now + this.opts.opTimeoutMs;
    const next = (): void => this.cluster.queue.schedule(this.prng.int(30), () => this.nextOp(client));
    if (roll < 0.4) {
      const rec = this.begin(client.identity, { op: 'get', key });
      this.read(rec, key, 0, deadline, this.leaderHint(), (v) => {
        client.lastSeen.set(key, v);
        next();
      }, () => next());
      return;
    }
    const known = client.lastSeen.get(key);
    const cmd: KvCommand =
      roll < 0.75 || known === undefined
        ? { id, op: 'put', key, value }
        : { id, op: 'cas', key, expect: this.prng.chance(0.8) ? known : null, value };
    const rec = this.begin(client.identity, cmd.op === 'put' ? { op: 'put', key, value } : { op: 'cas', key, expect: cmd.expect, value });
    this.write(rec, cmd, deadline, this.leaderHint(), (ok) => {
      if (ok) client.lastSeen.set(key, value);
      next();
    }, () => {
      // Its outcome is unknown: this client's later operations must not look ordered after it.
      client.identity = this.nextIdentity++;
      client.lastSeen.delete(key);
      next();
    });
  }

  private begin(client: number, input: KvInput): Recorded {
    const rec: Recorded = { client, input, output: undefined, call: this.clock++, ret: Infinity, callAt: this.cluster.queue.now, retAt: Infinity };
    this.records.push(rec);
    return rec;
  }

  private complete(rec: Recorded, output: KvOutput): void {
    rec.output = output;
    rec.ret = this.clock++;
    rec.retAt = this.cluster.queue.now;
  }

  private leaderHint(): NodeId {
    const leader = this.cluster.leader();
    if (leader !== undefined) return leader.id;
    return this.randomNode();
  }

  private randomNode(): NodeId {
    const up = this.cluster.upNodes();
    return up.length > 0 ? this.prng.pick(up).id : this.prng.pick([...this.cluster.nodes.keys()]);
  }

  /** Where to retry after a refusal, and after how long. */
  private retry(err: unknown): { to: NodeId; after: number } {
    if (err instanceof NotLeaderError && err.leaderId !== null) return { to: err.leaderId, after: 2 };
    if (err instanceof RaftError && err.code === 'UNAVAILABLE') return { to: this.randomNode(), after: 20 };
    return { to: this.randomNode(), after: 15 };
  }

  private write(rec: Recorded, cmd: KvCommand, deadline: number, target: NodeId, onDone: (ok: boolean) => void, onUnknown?: () => void): void {
    const q = this.cluster.queue;
    if (q.now >= deadline) {
      // Never accepted anywhere, so it had no effect; leaving it pending is still a true account.
      this.abandoned++;
      (onUnknown ?? (() => undefined))();
      return;
    }
    const pending = this.cluster.nodes.get(target)?.propose(encodeCommand(cmd)) ?? null;
    if (pending === null) {
      q.schedule(15, () => this.write(rec, cmd, deadline, this.randomNode(), onDone, onUnknown));
      return;
    }
    let answered = false;
    pending.then(
      ({ index, result }) => {
        if (answered) return;
        answered = true;
        const applied = result as KvApplyResult;
        this.cluster.invariants.acknowledged(cmd.id, index);
        this.acked++;
        this.lastAckAt = q.now;
        this.complete(rec, applied.op === 'cas' ? { op: 'cas', ok: applied.ok } : { op: 'put' });
        onDone(applied.op === 'put' || applied.ok);
      },
      (err: unknown) => {
        // Refused, or overwritten by another leader's entry: it never took effect, so it may be retried.
        // A timeout leaves the outcome unknown: the timer below gives up on it.
        if (answered || !refused(err)) return;
        answered = true;
        if (err instanceof RaftError && err.code === 'INVALID_ARGUMENT') {
          // Refused for good (too large for any message): it had no effect, and retrying cannot help.
          this.abandoned++;
          (onUnknown ?? (() => undefined))();
          return;
        }
        const { to, after } = this.retry(err);
        q.schedule(after, () => this.write(rec, cmd, deadline, to, onDone, onUnknown));
      },
    );
    q.schedule(Math.min(this.opts.writeTimeoutMs, Math.max(1, deadline - q.now)), () => {
      if (answered) return;
      answered = true;
      this.abandoned++;
      (onUnknown ?? (() => undefined))();
    });
  }

  private read(
    rec: Recorded,
    key: string,
    attempt: number,
    deadline: number,
    target: NodeId,
    onDone: (v: string | null) => void,
    onGiveUp: () => void,
  ): void {
    const q = this.cluster.queue;
    if (q.now >= deadline) {
      this.abandoned++;
      onGiveUp();
      return;
    }
    // Sometimes read through a follower, which forwards the ReadIndex request to the leader.
    const to = attempt === 0 && this.prng.chance(0.3) ? this.randomNode() : target;
    const pending = this.cluster.nodes.get(to)?.read(key) ?? null;
    if (pending === null) {
      q.schedule(15, () => this.read(rec, key, attempt + 1, deadline, this.randomNode(), onDone, onGiveUp));
      return;
    }
    let answered = false;
    pending.then(
      (value) => {
        if (answered) return;
        answered = true;
        this.complete(rec, { op: 'get', value });
        onDone(value);
      },
      (err: unknown) => {
        if (answered) return;
        answered = true;
        const retry = this.retry(err);
        q.schedule(retry.after, () => this.read(rec, key, attempt + 1, deadline, retry.to, onDone, onGiveUp));
      },
    );
    q.schedule(this.opts.readAttemptMs, () => {
      if (answered) return;
      answered = true;
      this.read(rec, key, attempt + 1, deadline, this.leaderHint(), onDone, onGiveUp);
    });
  }
}

/** The node refused the proposal (or another leader's entry took its index): it had no effect. */
function refused(err: unknown): boolean {
  return err instanceof RaftError && (err.code === 'NOT_LEADER' || err.code === 'UNAVAILABLE' || err.code === 'INVALID_ARGUMENT');
}
