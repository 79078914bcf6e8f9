/**
 * One simulated node: a RaftCore and a small deterministic driver that follows the core's rules.
 * Per Ready: install a snapshot (data carried by the network), write entries and hard state to the
 * simulated disk, wait for the fsync (not for a hard state that only moves the commit index, as
 * raft/node.ts), then send messages, apply committed entries, answer reads, and advance. Ticks and
 * messages keep flowing into the core while an fsync is outstanding, as they do with a real disk kept
 * off the event loop. A crash discards everything in memory.
 */
import { RaftCore } from '../../src/raft/core/raft.js';
import { EMPTY_MEMBERSHIP, membershipAfter } from '../../src/raft/core/membership.js';
import {
  ENTRY_CONF_CHANGE,
  type ConfChange,
  type Entry,
  type HardState,
  type Membership,
  type NodeId,
  type ProposeResult,
  type Ready,
  type ReadIndexResult,
  type Role,
  type SnapshotMessage,
  type SnapshotMeta,
  type Status,
  type TransferResult,
} from '../../src/raft/core/types.js';
import { crc32c } from '../../src/raft/storage/crc32c.js';
import type { EventQueue } from './clock.js';
import { SimDisk, type CrashReport } from './disk.js';
import { decodeCommand, KvStore, type KvApplyResult } from './kv-store.js';
import type { Envelope } from './network.js';
import type { Prng } from './prng.js';
import { SimLog } from './sim-log.js';

export interface NodeTuning {
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly maxInflight: number;
  readonly maxEntriesPerMsg: number;
  /** Take a snapshot once this many entries were applied since the last one. */
  readonly snapshotThreshold: number;
  /** Entries kept behind a snapshot for followers that lag a little. */
  readonly snapshotKeep: number;
  /**
   * A deliberate driver bug, to prove the checks catch one: 'localReads' answers reads from the local
   * state at once, skipping ReadIndex (stale reads from deposed leaders and lagging followers).
   */
  readonly mutation?: 'localReads';
}

/** What a node reports to the cluster: messages to send and facts the invariants check. */
export interface NodeHost {
  readonly queue: EventQueue;
  send(env: Envelope): void;
  /** A snapshot could not be streamed: the sender's core must hear of it, as from a broken stream. */
  snapshotStreamFailed(msg: SnapshotMessage): void;
  observeRole(node: SimNode, status: Status): void;
  persisted(node: SimNode, entries: readonly Entry[]): void;
  leaderReady(node: SimNode, term: number): void;
  applied(node: SimNode, entry: Entry): void;
  snapshotMade(node: SimNode, meta: SnapshotMeta, data: Uint8Array, installed: boolean): void;
  note(line: string): void;
}

interface PendingRead {
  readonly key: string;
  index: number | null;
  readonly resolve: (value: string | null) => void;
}

export class SimNode {
  readonly disk = new SimDisk();
  core: RaftCore | null = null;
  log = new SimLog();
  readonly kv = new KvStore();
  appliedIndex = 0;
  appliedMembership: Membership = EMPTY_MEMBERSHIP;
  role: Role = 'follower';
  term = 0;
  leader: NodeId | null = null;
  /** Bumped at every crash, so events scheduled by an earlier life are ignored. */
  private incarnation = 0;
  private busy = false;
  private lastHardState: HardState | undefined;
  private readonly receivedSnapshots = new Map<string, Uint8Array>();
  private proposals = new Map<string, (r: KvApplyResult, index: number) => void>();
  private reads = new Map<string, PendingRead>();

  constructor(
    readonly id: NodeId,
    private readonly host: NodeHost,
    private readonly prng: Prng,
    private readonly tuning: NodeTuning,
    /** The founding membership for a founder; empty for a node that joins later. */
    private readonly initialMembership: Membership,
  ) {}

  get up(): boolean {
    return this.core !== null;
  }

  /** Starts (or restarts) from what the disk holds. */
  start(): void {
    if (this.core !== null) throw new Error(`${this.id} is already up`);
    const rec = this.disk.recover();
    if (rec.tornDropped) this.host.note(`${this.id} recovery dropped a torn WAL record`);
    this.log = rec.log;
    const snap = rec.snapshot;
    this.kv.clear();
    if (snap !== undefined) this.kv.restore(snap.data);
    this.appliedIndex = snap?.meta.index ?? 0;
    this.appliedMembership = snap?.meta.membership ?? EMPTY_MEMBERSHIP;
    // A snapshot holds only committed state: its index is committed even if the hard state lags it.
    const hardState = { ...rec.hardState, commit: Math.max(rec.hardState.commit, this.appliedIndex) };
    this.lastHardState = hardState;
    this.core = new RaftCore(
      {
        id: this.id,
        electionTick: this.tuning.electionTick,
        heartbeatTick: this.tuning.heartbeatTick,
        random: () => this.prng.next(),
        maxInflight: this.tuning.maxInflight,
        maxEntriesPerMsg: this.tuning.maxEntriesPerMsg,
      },
      {
        hardState,
        membership: snap?.meta.membership ?? this.initialMembership,
        ...(snap !== undefined ? { snapshot: snap.meta } : {}),
        log: this.log,
        applied: this.appliedIndex,
      },
    );
    this.role = 'follower';
    this.leader = null;
    this.term = hardState.term;
    this.host.note(`${this.id} starts: term ${hardState.term}, log [${this.log.firstIndex()}, ${this.log.lastIndex()}], snapshot ${this.appliedIndex}`);
    this.pump();
  }

  /** Power loss: memory is gone, and so are unsynced writes (the last may be torn). */
  crash(tearProbability: number): CrashReport {
    this.incarnation++;
    this.core = null;
    this.busy = false;
    this.role = 'follower';
    this.leader = null;
    this.proposals = new Map();
    this.reads = new Map();
    this.receivedSnapshots.clear();
    const report = this.disk.crash(this.prng, tearProbability);
    this.host.note(`${this.id} crashes: ${report.survived} unsynced records survive, ${report.lost} lost${report.torn ? ', last one torn' : ''}`);
    return report;
  }

  tick(): void {
    if (this.core === null) return;
    this.core.tick();
    this.observe();
    this.pump();
  }

  receive(env: Envelope): void {
    if (this.core === null) return;
    if (env.msg.type === 'snapshot' && env.snapshotData !== undefined) {
      this.receivedSnapshots.set(snapshotKey(env.msg.snapshot), env.snapshotData);
    }
    this.core.step(env.msg);
    this.observe();
    this.pump();
  }

  propose(data: Uint8Array, id: string, onApplied: (r: KvApplyResult, index: number) => void): ProposeResult {
    if (this.core === null) return { ok: false, reason: 'notLeader', leader: null };
    const r = this.core.propose(data);
    if (r.ok) this.proposals.set(id, onApplied);
    this.pump();
    return r;
  }

  /** A linearizable read through ReadIndex: served once the read index is applied here. */
  read(ctx: string, key: string, resolve: (value: string | null) => void): ReadIndexResult {
    if (this.core === null) return { ok: false, reason: 'notLeader', leader: null };
    if (this.tuning.mutation === 'localReads') {
      const value = this.kv.get(key);
      this.host.queue.schedule(0, () => resolve(value));
      return { ok: true };
    }
    const r = this.core.readIndex(ctx);
    if (r.ok) this.reads.set(ctx, { key, index: null, resolve });
    this.pump();
    return r;
  }

  /** Forgets a client's request that timed out (its answer, if any, would be ignored anyway). */
  forget(id: string): void {
    this.proposals.delete(id);
    this.reads.delete(id);
  }

  proposeConfChange(cc: ConfChange): ProposeResult {
    if (this.core === null) return { ok: false, reason: 'notLeader', leader: null };
    const r = this.core.proposeConfChange(cc);
    this.pump();
    return r;
  }

  transferLeadership(to?: NodeId): TransferResult {
    if (this.core === null) return { ok: false, reason: 'notLeader', leader: null };
    const r = this.core.transferLeadership(to);
    this.pump();
    return r;
  }

  reportSnapshotFailure(to: NodeId): void {
    if (this.core === null) return;
    this.core.reportSnapshotFailure(to);
    this.pump();
  }

  status(): Status | null {
    return this.core?.status() ?? null;
  }

  private observe(): void {
    const s = this.core!.status();
    if (s.role !== this.role || s.term !== this.term || s.leader !== this.leader) {
      if (s.role !== this.role || s.leader !== this.leader) {
        this.host.note(`${this.id} is ${s.role} in term ${s.term}${s.leader !== null && s.role !== 'leader' ? ` (leader ${s.leader})` : ''}`);
      }
      this.role = s.role;
      this.term = s.term;
      this.leader = s.leader;
    }
    this.host.observeRole(this, s);
  }

  /** Processes Readies until the core has none or an fsync is outstanding. */
  private pump(): void {
    let empty = 0;
    while (this.core !== null && !this.busy && this.core.hasReady()) {
      const rd = this.core.ready();
      // One empty Ready can happen (a leader's batched broadcast found nothing to send); two in a row
      // means hasReady() stays true with nothing to do, and a real driver would spin forever.
      if (isEmpty(rd) && ++empty > 1) throw new Error(`${this.id}: hasReady() stays true but its Readies are empty (the driver would spin forever)`);
      const leaderTerm = this.role === 'leader' ? this.term : null;
      if (rd.snapshot !== undefined) this.install(rd.snapshot, rd.hardState ?? this.lastHardState!);
      if (rd.entries.length > 0) {
        this.disk.write({ kind: 'append', entries: rd.entries });
        this.log.append(rd.entries);
        this.host.persisted(this, rd.entries);
      }
      // As raft/node.ts: a hard state that changes only the commit index is written but not waited for
      // (it rides on the next fsync, or is lost in a crash and re-learned from the leader).
      const prev = this.lastHardState;
      const commitOnly = rd.hardState !== undefined && prev !== undefined && rd.hardState.term === prev.term && rd.hardState.vote === prev.vote;
      if (rd.hardState !== undefined) {
        this.disk.write({ kind: 'hardState', hs: rd.hardState });
        this.lastHardState = rd.hardState;
      }
      // A leader acts only through its Readies, so its log is checked before any of them leaves.
      if (leaderTerm !== null) this.host.leaderReady(this, leaderTerm);
      if (rd.entries.length === 0 && (rd.hardState === undefined || commitOnly)) {
        this.finish(rd);
        continue;
      }
      this.busy = true;
      const life = this.incarnation;
      const covered = this.disk.written;
      this.host.queue.schedule(this.prng.range(this.disk.fsyncMin, this.disk.fsyncMax), () => {
        if (life !== this.incarnation) return;
        this.disk.syncThrough(covered);
        this.busy = false;
        this.finish(rd);
        this.pump();
      });
      return;
    }
  }

  /** Everything of `rd` is durable: send, apply, answer reads, advance. */
  private finish(rd: Ready): void {
    const core = this.core!;
    for (const msg of rd.messages) {
      if (msg.type === 'snapshot') {
        const file = this.disk.findSnapshot(msg.snapshot.index, msg.snapshot.term);
        if (file === undefined) {
          // Deleted by retention before the stream started: the stream fails and the core retries.
          this.host.note(`${this.id} no longer holds snapshot ${msg.snapshot.index} for ${msg.to}`);
          this.host.snapshotStreamFailed(msg);
          continue;
        }
        this.host.send({ msg, snapshotData: file.data });
      } else {
        this.host.send({ msg });
      }
    }
    for (const e of rd.committedEntries) this.apply(e);
    for (const rs of rd.readStates) {
      const r = this.reads.get(rs.ctx);
      if (r !== undefined) r.index = rs.index;
    }
    core.advance(rd);
    this.serveReads();
    this.maybeSnapshot();
  }

  private apply(e: Entry): void {
    if (e.index !== this.appliedIndex + 1) throw new Error(`${this.id} applies ${e.index} after ${this.appliedIndex}`);
    this.host.applied(this, e);
    this.appliedIndex = e.index;
    if (e.type === ENTRY_CONF_CHANGE) {
      this.appliedMembership = membershipAfter(this.appliedMembership, e);
      return;
    }
    if (e.data.byteLength === 0) return;
    const cmd = decodeCommand(e.data);
    const result = this.kv.apply(cmd);
    const waiter = this.proposals.get(cmd.id);
    if (waiter !== undefined) {
      this.proposals.delete(cmd.id);
      waiter(result, e.index);
    }
  }

  private serveReads(): void {
    for (const [ctx, r] of this.reads) {
      if (r.index !== null && this.appliedIndex >= r.index) {
        this.reads.delete(ctx);
        r.resolve(this.kv.get(r.key));
      }
    }
  }

  private install(meta: SnapshotMeta, hardState: HardState): void {
    const data = this.receivedSnapshots.get(snapshotKey(meta));
    if (data === undefined) throw new Error(`${this.id} must install snapshot ${meta.index} it never received`);
    if (crc32c(data) !== meta.checksum || data.byteLength !== meta.size) throw new Error(`${this.id}: snapshot ${meta.index} data does not match its metadata`);
    this.disk.installSnapshot({ meta, data }, hardState);
    this.lastHardState = hardState;
    this.log.reset(meta.index, meta.term);
    this.kv.restore(data);
    this.appliedIndex = meta.index;
    this.appliedMembership = meta.membership;
    this.receivedSnapshots.clear();
    this.host.snapshotMade(this, meta, data, true);
    this.host.note(`${this.id} installs snapshot at ${meta.index} (term ${meta.term})`);
  }

  /** Snapshots by threshold and compacts the log behind it, keeping trailing entries. */
  private maybeSnapshot(): void {
    const last = this.disk.snapshot?.meta.index ?? 0;
    if (this.appliedIndex - last < this.tuning.snapshotThreshold) return;
    const term = this.log.term(this.appliedIndex);
    if (term === undefined) throw new Error(`${this.id}: applied entry ${this.appliedIndex} is not in the log`);
    const data = this.kv.snapshot();
    const meta: SnapshotMeta = {
      index: this.appliedIndex,
      term,
      membership: this.appliedMembership,
      size: data.byteLength,
      checksum: crc32c(data),
    };
    this.disk.saveSnapshot({ meta, data });
    this.host.snapshotMade(this, meta, data, false);
    const compactTo = this.appliedIndex - this.tuning.snapshotKeep;
    if (compactTo >= this.log.firstIndex()) {
      this.log.compact(compactTo);
      this.disk.write({ kind: 'compact', index: compactTo });
    }
    this.core!.snapshotTaken(meta);
  }
}

function isEmpty(rd: Ready): boolean {
  return (
    rd.softState === undefined &&
    rd.hardState === undefined &&
    rd.snapshot === undefined &&
    rd.entries.length === 0 &&
    rd.messages.length === 0 &&
    rd.committedEntries.length === 0 &&
    rd.readStates.length === 0
  );
}

function snapshotKey(meta: SnapshotMeta): string {
  return `${meta.index}:${meta.term}`;
}
