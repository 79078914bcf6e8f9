/**
 * A simulated Raft cluster: nodes, the network between them, the clock that drives both, and the
 * invariant checker every node reports to. Everything random comes from one seeded PRNG.
 */
import type { Entry, Member, Membership, NodeId, SnapshotMessage, SnapshotMeta, Status } from '../../src/raft/core/types.js';
import { EMPTY_MEMBERSHIP } from '../../src/raft/core/membership.js';
import { EventQueue } from './clock.js';
import { Invariants } from './invariants.js';
import { SimNetwork, type Envelope } from './network.js';
import { Prng } from './prng.js';
import { SimNode, type NodeHost, type NodeTuning } from './sim-node.js';
import { Trace } from './trace.js';

export interface ClusterConfig {
  readonly seed: number;
  readonly nodes: number;
  readonly tuning: NodeTuning;
  /** Simulated milliseconds per core tick. */
  readonly tickMs: number;
  /** Chance that the first lost unsynced record is torn at a crash. */
  readonly tearProbability: number;
  /** How long a leader's driver takes to notice a snapshot stream failed. */
  readonly snapshotGiveUpMs: number;
  readonly echoTrace?: (line: string) => void;
}

export const DEFAULT_TUNING: NodeTuning = {
  electionTick: 10,
  heartbeatTick: 2,
  maxInflight: 4,
  maxEntriesPerMsg: 8,
  snapshotThreshold: 200,
  snapshotKeep: 5,
};

/** Check the (quadratic) log matching property every this many events. */
const LOG_CHECK_EVERY = 250;
/** Far more events than a cluster can have at one instant: beyond it, something loops without time passing. */
const MAX_EVENTS_AT_ONE_TIME = 200_000;

export class Cluster implements NodeHost {
  readonly queue = new EventQueue();
  readonly prng: Prng;
  readonly net: SimNetwork;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly invariants = new Invariants();
  readonly trace: Trace;
  readonly founders: Member[];
  events = 0;
  crashes = 0;
  tornWrites = 0;
  snapshotsInstalled = 0;
  private nextNodeNumber: number;

  constructor(readonly config: ClusterConfig) {
    this.prng = new Prng(config.seed);
    this.trace = new Trace(() => this.queue.now, 4000, config.echoTrace ?? null);
    this.net = new SimNetwork(
      this.queue,
      this.prng.fork(),
      (env) => this.deliver(env),
      (env) => this.lost(env),
    );
    this.founders = Array.from({ length: config.nodes }, (_, i) => ({ id: `n${i + 1}`, address: `sim://n${i + 1}` }));
    this.nextNodeNumber = config.nodes + 1;
  }

  /** Creates and starts the founding members. */
  startFounders(): void {
    const membership: Membership = { voters: this.founders, learners: [] };
    for (const m of this.founders) this.addNode(m.id, membership);
  }

  /** Starts a brand-new node that will join as a learner (its membership is learned from the leader). */
  startJoiner(): Member {
    const id = `n${this.nextNodeNumber++}`;
    this.addNode(id, EMPTY_MEMBERSHIP);
    return { id, address: `sim://${id}` };
  }

  private addNode(id: NodeId, membership: Membership): SimNode {
    const node = new SimNode(id, this, this.prng.fork(), this.config.tuning, membership);
    this.nodes.set(id, node);
    node.start();
    // Each node ticks on its own phase, as separate machines would.
    const tick = (): void => {
      node.tick();
      this.queue.schedule(this.config.tickMs, tick);
    };
    this.queue.schedule(1 + this.prng.int(this.config.tickMs), tick);
    return node;
  }

  node(id: NodeId): SimNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  upNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.up);
  }

  /** The live leader with the highest term, if any. */
  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      if (n.up && n.role === 'leader' && (best === undefined || n.term > best.term)) best = n;
    }
    return best;
  }

  crash(id: NodeId): void {
    const node = this.node(id);
    if (!node.up) return;
    this.crashes++;
    if (node.crash(this.config.tearProbability).torn) this.tornWrites++;
  }

  restart(id: NodeId): void {
    const node = this.node(id);
    if (!node.up) node.start();
  }

  /** Runs events until simulated time `until` (or `stop` returns true), checking log matching as it goes. */
  runUntil(until: number, stop: () => boolean = () => false): void {
    let lastTime = this.queue.now;
    let sameTime = 0;
    while (!stop() && this.queue.runNext(until)) {
      this.events++;
      if (this.events % LOG_CHECK_EVERY === 0) this.checkLogs();
      if (this.queue.now !== lastTime) {
        lastTime = this.queue.now;
        sameTime = 0;
      } else if (++sameTime > MAX_EVENTS_AT_ONE_TIME) {
        throw new Error(`livelock: over ${MAX_EVENTS_AT_ONE_TIME} events at ${lastTime}ms without time advancing`);
      }
    }
  }

  checkLogs(): void {
    this.invariants.logMatching(this.upNodes().map((n) => ({ id: n.id, log: n.log })));
  }

  // --- NodeHost ---

  send(env: Envelope): void {
    this.net.send(env);
  }

  private deliver(env: Envelope): void {
    const node = this.nodes.get(env.msg.to);
    if (node !== undefined && node.up) node.receive(env);
    else this.lost(env);
  }

  private lost(env: Envelope): void {
    if (env.msg.type === 'snapshot') this.snapshotStreamFailed(env.msg);
  }

  /** The sender's snapshot stream fails visibly (the connection breaks or times out). */
  snapshotStreamFailed(msg: SnapshotMessage): void {
    this.queue.schedule(this.config.snapshotGiveUpMs, () => this.nodes.get(msg.from)?.reportSnapshotFailure(msg.to));
  }

  observeRole(node: SimNode, status: Status): void {
    if (status.role === 'leader') this.invariants.leaderSeen(node.id, status.term, status.commit, node.log);
  }

  persisted(node: SimNode, entries: readonly Entry[]): void {
    this.invariants.persisted(node.id, entries);
  }

  leaderReady(node: SimNode, term: number): void {
    this.invariants.leaderLog(node.id, term, node.log);
  }

  applied(node: SimNode, entry: Entry): void {
    this.invariants.applied(node.id, entry);
  }

  snapshotMade(node: SimNode, meta: SnapshotMeta, data: Uint8Array, installed: boolean): void {
    if (installed) this.snapshotsInstalled++;
    this.invariants.snapshot(node.id, meta.index, data);
  }

  note(line: string): void {
    this.trace.add(line);
  }
}
