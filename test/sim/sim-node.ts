/**
 * One simulated node: the production `RaftNode` over the production WAL and snapshot store, given a
 * simulated disk (`sim-fs.ts`), clock (`node-clock.ts`) and network (a `Transport` over
 * `network.ts`), with the key-value store as its state machine. A power loss drops the whole
 * incarnation — its timers, its in-flight I/O and its memory — and keeps what the disk kept.
 *
 * The node reports what the invariants need: entries persisted (its log store is wrapped), entries
 * applied and snapshots taken or installed (by the state machine), and, after a restart, whether its
 * storage still holds everything it had made durable (a silent loss is a failure, a refusal to start
 * with `CORRUPT_STORAGE` is the expected outcome of corrupted durable data).
 */
import { RaftNode } from '../../src/raft/node.js';
import { CorruptStorageError } from '../../src/raft/errors.js';
import type { ProposeOutcome, RaftNodeStatus } from '../../src/raft/node-types.js';
import type { Entry, HardState, Membership, NodeId, Role, SnapshotMeta } from '../../src/raft/core/types.js';
import type { LogStore, StableStore, StateMachine, Transport } from '../../src/raft/ports.js';
import type { WireMessage } from '../../src/raft/snapshot/install-messages.js';
import { openDiskStorage, type DiskStorage } from '../../src/raft/storage/disk-storage.js';
import { FrameDecoder, encodeFrame } from '../../src/raft/transport/frame.js';
import type { EventQueue } from './clock.js';
import { decodeCommand, KvStore } from './kv-store.js';
import type { Envelope } from './network.js';
import { NodeClock } from './node-clock.js';
import type { Prng } from './prng.js';
import { SimDisk, type PowerLossReport } from './sim-fs.js';

export interface NodeTuning {
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly maxInflight: number;
  readonly maxEntriesPerMsg: number;
  /** Take a snapshot once this many entries were applied since the last one. */
  readonly snapshotThreshold: number;
  /** Entries kept behind a snapshot for followers that lag a little. */
  readonly snapshotKeep: number;
  readonly leaseReads: boolean;
  /**
   * A deliberate bug, to prove the checks catch one: 'localReads' answers reads from the local
   * state at once, skipping ReadIndex (stale reads from deposed leaders and lagging followers).
   */
  readonly mutation?: 'localReads';
}

/** What a node reports to the cluster: frames to send and facts the invariants check. */
export interface NodeHost {
  readonly queue: EventQueue;
  readonly tickMs: number;
  readonly maxFrameBytes: number;
  send(env: Envelope): void;
  roleChanged(node: SimNode, role: Role, term: number): void;
  persisted(node: SimNode, entries: readonly Entry[]): void;
  applied(node: SimNode, entry: Entry): void;
  snapshotMade(node: SimNode, index: number, data: Uint8Array, installed: boolean): void;
  refusedToStart(node: SimNode, err: Error): void;
  note(line: string): void;
  /** Something the simulation cannot go on from (a fatal node error, a silent loss, a bug in the harness). */
  failed(error: Error): void;
}

/**
 * The entries and hard state a node has made durable (each write resolved), to find silent losses.
 * An entry stops counting as soon as the node issues a write that replaces or drops it: a power loss
 * may then legitimately keep that write's effect.
 */
class DurableRecord {
  readonly terms = new Map<number, number>();
  hardState: HardState = { term: 0, vote: null, commit: 0 };

  /** An append about to replace everything from `first` on. */
  replacing(first: number): void {
    for (const i of [...this.terms.keys()]) if (i >= first) this.terms.delete(i);
  }

  appended(entries: readonly Entry[]): void {
    for (const e of entries) this.terms.set(e.index, e.term);
  }

  compacted(index: number): void {
    for (const i of [...this.terms.keys()]) if (i <= index) this.terms.delete(i);
  }

  reset(): void {
    this.terms.clear();
  }

  /** What the restarted log and hard state forgot of what was durable, if anything. */
  missing(log: LogStore, hs: HardState, snapshotIndex: number): string | undefined {
    if (hs.term < this.hardState.term) return `term ${hs.term} after a durable term ${this.hardState.term}`;
    if (hs.term === this.hardState.term && this.hardState.vote !== null && hs.vote !== this.hardState.vote) {
      return `vote ${String(hs.vote)} in term ${hs.term} after a durable vote for ${this.hardState.vote}`;
    }
    for (const [i, term] of [...this.terms].sort((a, b) => a[0] - b[0])) {
      if (i <= snapshotIndex) continue;
      const now = log.term(i);
      if (now !== term) return `entry ${i} (term ${term}) was durable, the log now has ${now === undefined ? 'nothing' : `term ${now}`} there`;
    }
    return undefined;
  }
}

/** Delegates to the WAL, telling the host what is written and remembering what became durable. */
class ObservedLog implements LogStore, StableStore {
  constructor(
    private readonly wal: DiskStorage['log'],
    private readonly onAppend: (entries: readonly Entry[]) => void,
    private readonly durable: DurableRecord,
    private readonly alive: () => boolean,
  ) {}

  firstIndex(): number {
    return this.wal.firstIndex();
  }
  lastIndex(): number {
    return this.wal.lastIndex();
  }
  term(index: number): number | undefined {
    return this.wal.term(index);
  }
  entries(lo: number, hi: number, maxBytes?: number): Entry[] {
    return this.wal.entries(lo, hi, maxBytes);
  }
  async append(entries: readonly Entry[], options?: { background?: boolean }): Promise<void> {
    const copy = entries.slice();
    if (copy.length > 0) {
      this.onAppend(copy);
      this.durable.replacing(copy[0]!.index);
    }
    await this.wal.append(entries, options);
    if (this.alive()) this.durable.appended(copy);
  }
  compact(index: number, term: number): Promise<void> {
    this.durable.compacted(index);
    return this.wal.compact(index, term);
  }
  reset(index: number, term: number): Promise<void> {
    this.durable.reset();
    return this.wal.reset(index, term);
  }
  loadHardState(): HardState {
    return this.wal.loadHardState();
  }
  async saveHardState(state: HardState, options?: { sync?: boolean }): Promise<void> {
    await this.wal.saveHardState(state, options);
    if (options?.sync !== false && this.alive()) this.durable.hardState = { ...state };
  }
  close(): Promise<void> {
    return this.wal.close();
  }
}

/** The node's side of the simulated network, for one incarnation. */
class SimTransport implements Transport<WireMessage> {
  private handler: ((from: NodeId, message: WireMessage) => void) | undefined;
  /** Peers heard from, whose address a TCP handshake would have announced. */
  private readonly heard = new Set<NodeId>();
  closed = false;

  constructor(
    private readonly self: NodeId,
    private readonly host: NodeHost,
  ) {}

  send(to: NodeId, _address: string, message: WireMessage): void {
    if (this.closed) return;
    this.host.send({ from: this.self, to, msg: message, frame: encodeFrame(message) });
  }

  onMessage(handler: (from: NodeId, message: WireMessage) => void): void {
    this.handler = handler;
  }

  addressOf(id: NodeId): string | undefined {
    return this.heard.has(id) ? `sim://${id}` : undefined;
  }

  deliver(env: Envelope): void {
    if (this.closed || this.handler === undefined) return;
    this.heard.add(env.from);
    for (const m of new FrameDecoder(this.host.maxFrameBytes).push(Buffer.from(env.frame))) this.handler(env.from, m as WireMessage);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

export class SimNode {
  readonly disk: SimDisk;
  readonly clock: NodeClock;
  raft: RaftNode | null = null;
  /** The log of the current (or last) incarnation, for the invariants. */
  log: LogStore | null = null;
  kv = new KvStore();
  /** Why the node refused to start (corrupt durable state), if it did: it stays down (the nemesis replaces it). */
  refused: Error | null = null;
  /** The node is starting or up (not crashed). */
  running = false;
  private transport: SimTransport | null = null;
  private readonly durable = new DurableRecord();
  private incarnation = 0;

  constructor(
    readonly id: NodeId,
    private readonly host: NodeHost,
    private readonly prng: Prng,
    private readonly tuning: NodeTuning,
    /** The founding membership for a founder; undefined for a node that joins later. */
    private readonly founding: Membership | undefined,
  ) {
    this.disk = new SimDisk(host.queue, prng.fork());
    this.clock = new NodeClock(host.queue);
  }

  get up(): boolean {
    return this.raft !== null;
  }

  status(): RaftNodeStatus | null {
    return this.raft?.status() ?? null;
  }

  get role(): Role {
    return this.raft?.status().role ?? 'follower';
  }

  get term(): number {
    return this.raft?.status().term ?? 0;
  }

  get appliedIndex(): number {
    return this.raft?.status().applied ?? 0;
  }

  /** Starts (or restarts) from what the disk holds; resolves once the node runs or has refused to start. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.id} is already running`);
    this.running = true;
    const life = ++this.incarnation;
    const alive = (): boolean => life === this.incarnation;
    const kv = new KvStore();
    this.kv = kv;
    const transport = new SimTransport(this.id, this.host);
    this.transport = transport;
    let storage: DiskStorage;
    try {
      storage = await openDiskStorage(`/${this.id}`, { fs: this.disk.view(), segmentBytes: 16 * 1024, preallocateBytes: 4096, cacheEntries: 64 });
    } catch (err) {
      if (alive()) this.refuse(err as Error);
      return;
    }
    if (!alive()) return;
    const log = new ObservedLog(storage.log, (entries) => this.host.persisted(this, entries), this.durable, alive);
    const snapshotIndex = storage.snapshots.latest()?.index ?? 0;
    const loss = this.durable.missing(log, storage.log.loadHardState(), snapshotIndex);
    if (loss !== undefined) throw new SilentLossError(`${this.id} restarted without what it had made durable: ${loss}`);
    this.log = log;
    const stateMachine: StateMachine = {
      apply: (entries) =>
        entries.map((e) => {
          this.host.applied(this, e);
          return kv.apply(decodeCommand(e.data));
        }),
      snapshot: () => {
        const data = kv.snapshot();
        this.host.snapshotMade(this, this.raft!.status().applied, data, false);
        return (async function* () {
          yield data;
        })();
      },
      restore: async (chunks, meta: SnapshotMeta) => {
        const parts: Uint8Array[] = [];
        for await (const c of chunks) parts.push(c);
        const data = Buffer.concat(parts);
        kv.restore(data);
        this.host.snapshotMade(this, meta.index, data, true);
        this.host.note(`${this.id} installs snapshot at ${meta.index} (term ${meta.term})`);
      },
    };
    let raft: RaftNode;
    try {
      raft = await RaftNode.start({
        id: this.id,
        address: `sim://${this.id}`,
        ...(this.founding !== undefined ? { membership: this.founding } : { join: true }),
        storage: { log, stable: log, snapshots: storage.snapshots, close: () => storage.close() },
        transport,
        stateMachine,
        clock: this.clock,
        random: () => this.prng.next(),
        tickMs: this.host.tickMs,
        electionTicks: this.tuning.electionTick,
        heartbeatTicks: this.tuning.heartbeatTick,
        snapshotThreshold: this.tuning.snapshotThreshold,
        trailingEntries: this.tuning.snapshotKeep,
        snapshotChunkBytes: 32 * 1024,
        snapshotWindow: 4,
        requestTimeoutMs: 1000,
        raft: {
          maxInflight: this.tuning.maxInflight,
          maxEntriesPerMsg: this.tuning.maxEntriesPerMsg,
          leaseReads: this.tuning.leaseReads,
          // Appends are cut to fit the network's frame limit, and a proposal that cannot fit is refused.
          maxMessageBytes: this.host.maxFrameBytes,
        },
        // Problems the node survives (a failed snapshot transfer, a dropped message) go to the trace.
        onError: (err) => this.host.note(`${this.id}: ${err.message}`),
      });
    } catch (err) {
      if (alive()) this.refuse(err as Error);
      return;
    }
    if (!alive()) return;
    raft.on('roleChange', (role, term) => this.host.roleChanged(this, role, term));
    raft.on('fatal', (err) => this.host.failed(new Error(`${this.id} stopped on a fatal error: ${err.stack ?? err.message}`)));
    this.raft = raft;
    const hs = storage.log.loadHardState();
    const cut = storage.log.openReport;
    const recovery = cut.truncated > 0 ? `; WAL recovery cut ${cut.truncated} records (${cut.truncatedBytes} bytes)` : '';
    this.host.note(`${this.id} starts: term ${hs.term}, log [${log.firstIndex()}, ${log.lastIndex()}], snapshot ${snapshotIndex}${recovery}`);
  }

  private refuse(err: Error): void {
    this.running = false;
    this.clock.kill();
    if (!(err instanceof CorruptStorageError)) throw err;
    this.refused = err;
    this.host.refusedToStart(this, err);
  }

  /** Power loss: memory, timers and in-flight I/O are gone, and so are unsynced writes (but a prefix; the next may be torn). */
  crash(tearProbability: number): PowerLossReport {
    this.incarnation++;
    this.running = false;
    this.raft = null;
    this.clock.kill();
    if (this.transport !== null) this.transport.closed = true;
    this.transport = null;
    const report = this.disk.powerLoss(tearProbability);
    this.host.note(`${this.id} loses power: ${report.survived} unsynced writes survive, ${report.lost} lost${report.torn ? ', the next one torn' : ''}`);
    return report;
  }

  deliver(env: Envelope): void {
    if (this.clock.paused) {
      this.clock.run(0, () => this.transport?.deliver(env));
      return;
    }
    this.transport?.deliver(env);
  }

  /** Proposes a command; null when the node is down. */
  propose(data: Uint8Array): Promise<ProposeOutcome> | null {
    return this.raft?.propose(data) ?? null;
  }

  /** A linearizable read of `key`; null when the node is down. */
  read(key: string): Promise<string | null> | null {
    const raft = this.raft;
    if (raft === null) return null;
    const kv = this.kv;
    if (this.tuning.mutation === 'localReads') return Promise.resolve(kv.get(key));
    return raft.readIndex().then(() => kv.get(key));
  }
}

/** A restarted node forgot something it had made durable and did not refuse to start. */
export class SilentLossError extends Error {
  override readonly name = 'SilentLossError';
}

