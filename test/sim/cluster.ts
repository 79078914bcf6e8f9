/**
 * A simulated Raft cluster: nodes (each the production `RaftNode`), the network between them, the
 * event queue that drives everything, and the invariant checker every node reports to. Everything
 * random comes from one seeded PRNG.
 *
 * The production code is asynchronous, so the run loop is too: after each event it lets every
 * promise reaction that event set off run to completion (one `setImmediate` turn: nothing else in
 * the process does I/O or runs timers), so a run is a pure function of its seed.
 */
import type { Entry, Member, Membership, NodeId, Role } from '../../src/raft/core/types.js';
import { EventQueue } from './clock.js';
import { Invariants } from './invariants.js';
import { SimNetwork, type Envelope } from './network.js';
import { Prng } from './prng.js';
import { SimNode, type NodeHost, type NodeTuning } from './sim-node.js';
import { Trace } from './trace.js';

export interface ClusterConfig {
  readonly seed: number;
  readonly nodes: number;
  /** Founders that start as learners (the first `nodes - learners` are voters). */
  readonly learners?: number;
  readonly tuning: NodeTuning;
  /** Simulated milliseconds per core tick. */
  readonly tickMs: number;
  /** Chance that the first lost unsynced write is torn at a power loss. */
  readonly tearProbability: number;
  readonly echoTrace?: (line: string) => void;
}

export const DEFAULT_TUNING: NodeTuning = {
  electionTick: 10,
  heartbeatTick: 2,
  maxInflight: 4,
  maxEntriesPerMsg: 8,
  snapshotThreshold: 200,
  snapshotKeep: 5,
  leaseReads: false,
};

/** Check the (quadratic) log matching property every this many events. */
const LOG_CHECK_EVERY = 250;
/** Far more events than a cluster can have at one instant: beyond it, something loops without time passing. */
const MAX_EVENTS_AT_ONE_TIME = 200_000;

/** Lets every promise reaction queued so far run (and those they queue): nothing else is pending in the process. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Cluster implements NodeHost {
  readonly queue = new EventQueue();
  readonly prng: Prng;
  readonly net: SimNetwork;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly invariants = new Invariants();
  readonly trace: Trace;
  readonly founders: Member[];
  readonly maxFrameBytes = 256 * 1024;
  events = 0;
  crashes = 0;
  tornWrites = 0;
  snapshotsInstalled = 0;
  refusals = 0;
  /** Told when a node refuses to start (the nemesis repairs it, as an operator would). */
  onRefusal: ((node: SimNode) => void) | undefined;
  /** Leaders as the nodes announced them (role changes), checked after every event. */
  private readonly leaders = new Set<SimNode>();
  private failure: Error | undefined;
  private nextNodeNumber: number;

  constructor(readonly config: ClusterConfig) {
    this.prng = new Prng(config.seed);
    this.trace = new Trace(() => this.queue.now, 4000, config.echoTrace ?? null);
    this.net = new SimNetwork(this.queue, this.prng.fork(), (env) => this.deliver(env));
    this.net.maxFrameBytes = this.maxFrameBytes;
    this.founders = Array.from({ length: config.nodes }, (_, i) => ({ id: `n${i + 1}`, address: `sim://n${i + 1}` }));
    this.nextNodeNumber = config.nodes + 1;
  }

  get tickMs(): number {
    return this.config.tickMs;
  }

  /** Creates and starts the founding members. */
  startFounders(): void {
    const voters = this.founders.length - (this.config.learners ?? 0);
    const membership: Membership = { voters: this.founders.slice(0, voters), learners: this.founders.slice(voters) };
    for (const m of this.founders) this.addNode(m.id, membership);
  }

  /** Starts a brand-new node that will join as a learner (its membership is learned from the leader). */
  startJoiner(): Member {
    const id = `n${this.nextNodeNumber++}`;
    this.addNode(id, undefined);
    return { id, address: `sim://${id}` };
  }

  private addNode(id: NodeId, membership: Membership | undefined): SimNode {
    const node = new SimNode(id, this, this.prng.fork(), this.config.tuning, membership);
    this.nodes.set(id, node);
    this.track(node.start());
    return node;
  }

  /** Records a failure of an asynchronous step; the run loop throws it after the current event. */
  track(p: Promise<void>): void {
    p.catch((err: unknown) => this.failed(err as Error));
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
    for (const n of this.leaders) {
      const s = n.status();
      if (s !== null && s.role === 'leader' && (best === undefined || s.term > best.term)) best = n;
    }
    return best;
  }

  crash(id: NodeId): void {
    const node = this.node(id);
    if (!node.running) return;
    this.crashes++;
    this.leaders.delete(node);
    if (node.crash(this.config.tearProbability).torn) this.tornWrites++;
  }

  restart(id: NodeId): void {
    const node = this.node(id);
    if (!node.running && node.refused === null) this.track(node.start());
  }

  /** Runs events until simulated time `until` (or `stop` returns true), checking invariants as it goes. */
  async runUntil(until: number, stop: () => boolean = () => false): Promise<void> {
    let lastTime = this.queue.now;
    let sameTime = 0;
    await settle();
    this.throwIfFailed();
    while (!stop() && this.queue.runNext(until)) {
      await settle();
      this.throwIfFailed();
      this.events++;
      this.checkLeaders();
      if (this.events % LOG_CHECK_EVERY === 0) this.checkLogs();
      if (this.queue.now !== lastTime) {
        lastTime = this.queue.now;
        sameTime = 0;
      } else if (++sameTime > MAX_EVENTS_AT_ONE_TIME) {
        throw new Error(`livelock: over ${MAX_EVENTS_AT_ONE_TIME} events at ${lastTime}ms without time advancing`);
      }
    }
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }

  private checkLeaders(): void {
    for (const n of this.leaders) {
      const s = n.status();
      if (s === null || s.role !== 'leader') {
        this.leaders.delete(n);
        continue;
      }
      this.invariants.leaderSeen(n.id, s.term, s.commit, n.log!);
    }
  }

  checkLogs(): void {
    this.invariants.logMatching(this.upNodes().map((n) => ({ id: n.id, log: n.log! })));
  }

  // --- NodeHost ---

  send(env: Envelope): void {
    this.net.send(env);
  }

  private deliver(env: Envelope): void {
    this.nodes.get(env.to)?.deliver(env);
  }

  roleChanged(node: SimNode, role: Role, term: number): void {
    this.trace.add(`${node.id} is ${role} in term ${term}`);
    if (role !== 'leader') return;
    // Emitted before the first Ready of its term leaves the node: its log must hold everything committed.
    this.leaders.add(node);
    this.check(() => this.invariants.leaderLog(node.id, term, node.log!));
  }

  persisted(node: SimNode, entries: readonly Entry[]): void {
    this.check(() => this.invariants.persisted(node.id, entries));
  }

  applied(node: SimNode, entry: Entry): void {
    this.check(() => this.invariants.applied(node.id, entry));
  }

  snapshotMade(node: SimNode, index: number, data: Uint8Array, installed: boolean): void {
    if (installed) this.snapshotsInstalled++;
    this.check(() => this.invariants.snapshot(node.id, index, data));
  }

  refusedToStart(node: SimNode, err: Error): void {
    this.refusals++;
    this.trace.add(`${node.id} refuses to start: ${err.message}`);
    this.onRefusal?.(node);
  }

  note(line: string): void {
    this.trace.add(line);
  }

  /**
   * Runs a check called from inside the node: a violation is recorded here first, since the node
   * would take the exception for its own failure and stop.
   */
  private check(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.failed(err as Error);
      throw err;
    }
  }

  failed(error: Error): void {
    this.failure ??= error;
  }
}
