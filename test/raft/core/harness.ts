/**
 * A deterministic in-test driver for several RaftCore instances: an in-memory log and hard state per
 * node, and a router that delivers messages in order unless a partition or filter drops them.
 */
import { RaftCore } from '../../../src/raft/core/raft.js';
import { EMPTY_MEMBERSHIP, membershipAfter } from '../../../src/raft/core/membership.js';
import {
  EMPTY_HARD_STATE,
  ENTRY_NORMAL,
  type HardState,
  type Membership,
  type Message,
  type NodeId,
  type RaftConfig,
  type ReadState,
  type Ready,
  type SnapshotMeta,
} from '../../../src/raft/core/types.js';
// The simulator's in-memory log serves here too: the same LogReader, with compaction and reset.
import { MemoryLog } from './memory-log.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
export const bytes = (s: string): Uint8Array => enc.encode(s);

/** Simulated milliseconds per tick. */
export const TICK_MS = 100;

/** A deterministic PRNG (mulberry32) for election jitter. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimNode {
  readonly id: NodeId;
  core: RaftCore;
  log: MemoryLog;
  hard: HardState;
  snapshot: SnapshotMeta | undefined;
  /** Data of applied normal entries, in order (the state machine). */
  applied: { index: number; data: string }[];
  appliedMembership: Membership;
  readStates: ReadState[];
  /** A Ready taken but not yet durable (slow disk). */
  pending: Ready | undefined;
}

export type Options = Partial<Omit<RaftConfig, 'id' | 'random'>>;

export class Cluster {
  readonly nodes = new Map<NodeId, SimNode>();
  private queue: Message[] = [];
  /** Node pairs that cannot talk (both directions unless added one way). */
  private cut = new Set<string>();
  /** Extra filter: return false to drop a message. */
  filter: (m: Message) => boolean = () => true;
  /** Return true to leave a node's Ready undurable for one more settle round (slow disk). */
  slowDisk: (id: NodeId) => boolean = () => false;
  /** When set, each delivery batch is shuffled with it (message reordering). */
  reorder: (() => number) | undefined;
  /** Rewrites a message in flight (e.g. to lose some of its entries). */
  rewrite: (m: Message) => Message = (m) => m;
  /** Every message ever sent (for assertions). */
  readonly sent: Message[] = [];
  /** Snapshot data by "index/term": the applied state at that point. */
  private readonly snapshotData = new Map<string, { index: number; data: string }[]>();
  private seed = 1;
  /** Simulated real time in ms, shared by every node's clock: `tick()` advances it by TICK_MS. */
  time = 0;

  constructor(
    voters: readonly NodeId[],
    private readonly options: Options = {},
  ) {
    const membership: Membership = { voters: voters.map((id) => ({ id, address: `${id}:7000` })), learners: [] };
    for (const id of voters) this.addNode(id, membership);
  }

  /** Starts a node: a founder with `membership`, or a joiner with the empty membership. */
  addNode(id: NodeId, membership: Membership = EMPTY_MEMBERSHIP, options: Options = {}): SimNode {
    const log = new MemoryLog();
    const node: SimNode = {
      id,
      log,
      hard: EMPTY_HARD_STATE,
      snapshot: undefined,
      applied: [],
      appliedMembership: membership,
      readStates: [],
      pending: undefined,
      core: new RaftCore(this.config(id, options), { hardState: EMPTY_HARD_STATE, membership, log }),
    };
    this.nodes.set(id, node);
    return node;
  }

  private config(id: NodeId, options: Options): RaftConfig {
    const clock = { now: () => this.time, tickMs: TICK_MS };
    return { id, electionTick: 10, heartbeatTick: 2, random: seeded(this.seed++), clock, ...this.options, ...options };
  }

  /** Restarts a node from its durable state (everything not advanced is lost). */
  restart(id: NodeId): void {
    const n = this.node(id);
    const state = this.snapshotData.get(`${n.snapshot?.index}/${n.snapshot?.term}`);
    n.applied = n.snapshot !== undefined ? [...(state ?? [])] : [];
    // Without a snapshot the founding membership comes back from the log's first entry.
    n.appliedMembership = n.snapshot?.membership ?? EMPTY_MEMBERSHIP;
    n.readStates = [];
    n.pending = undefined;
    n.core = new RaftCore(this.config(id, {}), {
      hardState: n.hard,
      membership: n.appliedMembership,
      log: n.log,
      ...(n.snapshot !== undefined ? { snapshot: n.snapshot } : {}),
    });
  }

  node(id: NodeId): SimNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) if (other !== id) this.partition(id, other);
  }

  partition(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}>${b}`);
    this.cut.add(`${b}>${a}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Processes every node's Ready and delivers messages until the cluster is quiet. */
  settle(): void {
    for (let round = 0; ; round++) {
      if (round > 10_000) throw new Error('cluster did not settle');
      let busy = false;
      for (const n of this.nodes.values()) busy = this.processReady(n) || busy;
      const batch = this.queue;
      this.queue = [];
      if (this.reorder !== undefined) {
        for (let i = batch.length - 1; i > 0; i--) {
          const j = Math.floor(this.reorder() * (i + 1));
          [batch[i], batch[j]] = [batch[j]!, batch[i]!];
        }
      }
      for (const m of batch) {
        const to = this.nodes.get(m.to);
        if (to === undefined || this.cut.has(`${m.from}>${m.to}`) || !this.filter(m)) continue;
        to.core.step(this.rewrite(m));
        busy = true;
      }
      if (!busy) return;
    }
  }

  /**
   * Takes a node's Ready and, unless its disk is slow this round, completes it: persist, send, apply,
   * advance. A Ready left pending is what a crash loses.
   */
  private processReady(n: SimNode): boolean {
    if (n.pending === undefined) {
      if (!n.core.hasReady()) return false;
      n.pending = n.core.ready();
      const rd = n.pending;
      const empty =
        rd.softState === undefined && rd.hardState === undefined && rd.snapshot === undefined && rd.entries.length === 0 &&
        rd.messages.length === 0 && rd.committedEntries.length === 0 && rd.readStates.length === 0;
      // hasReady() promised work: an empty Ready means a driver would spin.
      if (empty) throw new Error(`${n.id}: hasReady() was true but the Ready is empty`);
    }
    if (this.slowDisk(n.id)) return true;
    const rd = n.pending;
    n.pending = undefined;
    if (rd.snapshot !== undefined) {
      n.log.reset(rd.snapshot.index, rd.snapshot.term);
      n.snapshot = rd.snapshot;
      n.applied = [...(this.snapshotData.get(`${rd.snapshot.index}/${rd.snapshot.term}`) ?? [])];
      n.appliedMembership = rd.snapshot.membership;
    }
    n.log.append(rd.entries);
    if (rd.hardState !== undefined) n.hard = rd.hardState;
    for (const m of rd.messages) this.checkDurable(n, m);
    for (const m of rd.messages) {
      this.sent.push(m);
      this.queue.push(m);
    }
    for (const e of rd.committedEntries) {
      n.appliedMembership = membershipAfter(n.appliedMembership, e);
      if (e.type === ENTRY_NORMAL && e.data.byteLength > 0) n.applied.push({ index: e.index, data: dec.decode(e.data) });
    }
    n.readStates.push(...rd.readStates);
    n.core.advance(rd);
    return true;
  }

  /** Messages leave only once what they acknowledge is durable: check it against the persisted state. */
  private checkDurable(n: SimNode, m: Message): void {
    if (m.type === 'voteResponse' && !m.reject && (n.hard.vote !== m.to || n.hard.term !== m.term)) {
      throw new Error(`${n.id} granted a vote to ${m.to} in term ${m.term} that is not durable`);
    }
    if (m.type === 'appendResponse' && !m.reject && m.index > n.log.lastIndex()) {
      throw new Error(`${n.id} acknowledged index ${m.index} beyond its durable log ${n.log.lastIndex()}`);
    }
  }

  /** Ticks every node `n` times, settling after each tick. */
  tick(n = 1, only?: readonly NodeId[]): void {
    for (let i = 0; i < n; i++) {
      this.time += TICK_MS;
      for (const node of this.nodes.values()) if (only === undefined || only.includes(node.id)) node.core.tick();
      this.settle();
    }
  }

  /** Forces `id` to campaign now, as TimeoutNow does, whatever its election timer says. */
  campaign(id: NodeId): void {
    // Only a follower takes TimeoutNow: a stuck candidate "crashes" first.
    if (this.node(id).core.status().role !== 'follower') this.restart(id);
    const s = this.node(id).core.status();
    const peer = s.membership.voters.find((v) => v.id !== id)!.id;
    this.node(id).core.step({ type: 'timeoutNow', from: peer, to: id, term: s.term });
    this.settle();
  }

  /** Ticks until some node is leader (bounded). */
  electLeader(maxTicks = 200): NodeId {
    for (let i = 0; i < maxTicks; i++) {
      const leader = this.leader();
      if (leader !== null) return leader;
      this.tick();
    }
    throw new Error('no leader elected');
  }

  /** The unique leader of the highest term, or null. */
  leader(): NodeId | null {
    let best: { id: NodeId; term: number } | null = null;
    for (const n of this.nodes.values()) {
      const s = n.core.status();
      if (s.role === 'leader' && (best === null || s.term > best.term)) best = { id: n.id, term: s.term };
    }
    return best?.id ?? null;
  }

  /** Makes `id` take a snapshot of its applied state and compact its log up to it. */
  compact(id: NodeId): SnapshotMeta {
    const n = this.node(id);
    const index = n.core.status().applied;
    const meta: SnapshotMeta = {
      index,
      term: n.log.term(index) ?? n.snapshot!.term,
      membership: n.appliedMembership,
      size: 0,
      checksum: 0,
    };
    this.snapshotData.set(`${meta.index}/${meta.term}`, n.applied.filter((a) => a.index <= index));
    n.core.snapshotTaken(meta);
    n.snapshot = meta;
    n.log.compact(index);
    return meta;
  }

  appliedData(id: NodeId): string[] {
    return this.node(id).applied.map((a) => a.data);
  }
}
