/**
 * The simulated cluster the scheduler and the agents run in. Each node runs the production `NodeTasks` (its
 * agent, held lease, cluster checkpoint store and, while it leads, the controller's driver and lease table) on
 * a drifting, pausable `NodeClock`, over its own replica of the state (`MemoryState`, the production rules).
 *
 * Raft is not simulated here (test/sim does that): the log is one sequence, and the world plays consensus.
 * A write reaches the leader over the network and commits only while the leader reaches a majority of the
 * voters; each replica applies the log in order, later, as heartbeats reach it. When the leader dies or loses
 * its majority, a voter that reaches a majority takes over after an election timeout, with every committed
 * entry (leader completeness); the old one goes on believing it leads until it hears from the new one, as a
 * deposed Raft leader does.
 */
import { Registry } from 'prom-client';
import type { ClusterCommand } from '../../src/cluster/commands.js';
import type { RpcClient } from '../../src/cluster/rpc.js';
import { NodeTasks } from '../../src/cluster/agent/node-tasks.js';
import type { TaskRunner } from '../../src/cluster/agent/task-runs.js';
import { partitionsOf } from '../../src/connectors/partitions.js';
import { WireError } from '../../src/core/errors.js';
import { EventQueue } from '../sim/clock.js';
import { NodeClock } from '../sim/node-clock.js';
import type { Prng } from '../sim/prng.js';
import { Invariants } from './invariants.js';
import { MemoryState, entryData, type ApplyResult, type LogEntry } from './memory-state.js';
import { SimRun } from './sim-engine.js';

export const FAILOVER_TIMEOUT_MS = 2000;
export const CHECKPOINT_INTERVAL_MS = 250;
export const HEARTBEAT_MS = 50;
const RPC_TIMEOUT_MS = 1000;
const WRITE_TIMEOUT_MS = 2000;

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface NetworkFaults {
  /** Probability that a message is lost. */
  loss: number;
  /** Delay of a message, ms: uniform in [min, max]. */
  minDelay: number;
  maxDelay: number;
}

interface Waiter {
  readonly index: number;
  readonly result: ApplyResult;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** A command in a trace line: its type and the tasks it names. */
function describe(c: ClusterCommand): string {
  switch (c.type) {
    case 'task.assign':
      return `task.assign ${c.assignments.map((a) => `${a.pipeline}/${a.task}@${a.epoch}→${a.node ?? '-'}`).join(' ')}`;
    case 'task.drain':
      return `task.drain ${c.tasks.map((t) => `${t.pipeline}/${t.task}@${t.epoch}`).join(' ')}`;
    case 'task.release':
      return `task.release ${c.pipeline}/${c.task}@${c.epoch} by ${c.node}`;
    case 'task.remove':
      return `task.remove ${c.tasks.map((t) => `${t.pipeline}/${t.task}`).join(' ')}`;
    case 'checkpoint.commit':
      return `checkpoint.commit by ${c.node} ${c.checkpoints.map((k) => `${k.pipeline}/${k.task}@${k.epoch}.${k.seq}`).join(' ')}`;
    default:
      return c.type;
  }
}

export class SimNode {
  alive = true;
  incarnation = 0;
  readonly clock: NodeClock;
  /** The node's replica: kept across restarts, as its data dir is. */
  readonly state = new MemoryState();
  tasks: NodeTasks | undefined;
  /** Whom this node takes for the leader, and whether it thinks it is. */
  knownLeader: string | null = null;
  term = 0;
  /** Writes committed, waiting for this replica to apply them. */
  waiters: Waiter[] = [];

  constructor(
    readonly id: string,
    readonly voter: boolean,
    queue: EventQueue,
  ) {
    this.clock = new NodeClock(queue);
  }

  get believesLeader(): boolean {
    return this.knownLeader === this.id;
  }
}

export class World {
  readonly queue = new EventQueue();
  readonly nodes = new Map<string, SimNode>();
  readonly log: LogEntry[] = [];
  /** The committed state, as every replica will have it once caught up. */
  readonly committed = new MemoryState();
  readonly invariants: Invariants;
  readonly trace: string[] = [];
  leader: string | null = null;
  term = 1;
  /** Directed links that are cut: `from>to`. */
  readonly cuts = new Set<string>();
  readonly net: NetworkFaults = { loss: 0, minDelay: 1, maxDelay: 8 };
  private electionDue: number | undefined;
  private failure: Error | undefined;

  constructor(
    readonly prng: Prng,
    private readonly echo?: (line: string) => void,
  ) {
    this.invariants = new Invariants(this);
  }

  note(line: string): void {
    const text = `${String(this.queue.now).padStart(6)} ${line}`;
    this.trace.push(text);
    if (this.trace.length > 4000) this.trace.shift();
    this.echo?.(text);
  }

  fail(error: Error): void {
    this.failure ??= error;
  }

  /** Runs events until `until` (simulated ms), checking the invariants after each. */
  async runUntil(until: number): Promise<void> {
    await settle();
    while (this.queue.runNext(until)) {
      await settle();
      this.invariants.afterEvent();
      if (this.failure) throw this.failure;
    }
    if (this.failure) throw this.failure;
  }

  // ---- membership and processes ----

  /** A founder or a joiner: recorded in the state (a founder directly in the first entries), then started. */
  addNode(id: string, voter: boolean): SimNode {
    const node = new SimNode(id, voter, this.queue);
    this.nodes.set(id, node);
    return node;
  }

  start(node: SimNode): void {
    node.alive = true;
    node.incarnation++;
    node.knownLeader = null;
    node.waiters = [];
    const incarnation = node.incarnation;
    const tasks = new NodeTasks({
      nodeId: node.id,
      options: {
        runner: this.runnerFor(node),
        partitionsOf,
        failoverTimeoutMs: FAILOVER_TIMEOUT_MS,
        checkpointIntervalMs: CHECKPOINT_INTERVAL_MS,
        backoff: { initialMs: 100, maxMs: 1000, maxRestarts: 1000 },
      },
      clock: node.clock,
      state: () => node.state,
      log: { info: (m) => this.note(`${node.id} ${m}`), warn: (m) => this.note(`${node.id} warn ${m}`), debug: (m) => this.note(`${node.id} debug ${m}`) },
      rpc: this.rpcFor(node, incarnation),
      raft: () => (node.alive ? { role: node.believesLeader ? 'leader' : 'follower', term: node.term, leader: node.knownLeader, leaderAddress: node.knownLeader } : undefined),
      confirmLeader: () => this.confirmLeader(node, incarnation),
      write: (command) => this.write(node, incarnation, command),
      metrics: new Registry(),
    });
    node.tasks = tasks;
    if (this.leader === node.id) node.knownLeader = node.id;
    tasks.start();
    this.note(`${node.id} starts (incarnation ${incarnation})`);
  }

  /** kill -9: nothing of this incarnation runs again; its runs die with it. */
  kill(node: SimNode): void {
    if (!node.alive) return;
    node.alive = false;
    node.clock.kill();
    node.tasks = undefined;
    for (const w of node.waiters) w.reject(new WireError('UNAVAILABLE', 'the node died'));
    node.waiters = [];
    this.invariants.nodeDied(node.id);
    this.note(`${node.id} dies`);
  }

  /** A clean leave: the node drains and releases its tasks, then exits. */
  leave(node: SimNode): void {
    const tasks = node.tasks;
    if (!node.alive || tasks === undefined) return;
    const incarnation = node.incarnation;
    this.note(`${node.id} leaves`);
    void tasks.leave().finally(() => {
      if (node.incarnation === incarnation) this.kill(node);
    });
  }

  // ---- the network ----

  linkUp(from: string, to: string): boolean {
    const a = this.nodes.get(from);
    const b = this.nodes.get(to);
    return a !== undefined && b !== undefined && a.alive && b.alive && !this.cuts.has(`${from}>${to}`);
  }

  /** Delivers `fn` at `to` after a network delay, unless the link or either end fails meanwhile. */
  send(from: SimNode, to: string, fn: (target: SimNode) => void): void {
    if (!this.linkUp(from.id, to) || this.prng.chance(this.net.loss)) return;
    const target = this.nodes.get(to)!;
    const incarnation = target.incarnation;
    const delay = this.net.minDelay + this.prng.int(this.net.maxDelay - this.net.minDelay + 1);
    this.queue.schedule(delay, () => {
      if (!this.linkUp(from.id, to) || target.incarnation !== incarnation) return;
      // A paused process takes the message once it runs again.
      target.clock.run(0, () => {
        if (target.alive && target.incarnation === incarnation) fn(target);
      });
    });
  }

  private rpcFor(node: SimNode, incarnation: number): RpcClient {
    const call = (address: string, method: string, params: Record<string, unknown>, timeoutMs = RPC_TIMEOUT_MS): Promise<unknown> =>
      new Promise((resolve, reject) => {
        let settled = false;
        const finish = (fn: () => void): void => {
          if (settled || node.incarnation !== incarnation) return;
          settled = true;
          fn();
        };
        node.clock.setTimeout(() => finish(() => reject(new WireError('TIMEOUT', `${method} to ${address} timed out`))), timeoutMs);
        this.send(node, address, (target) => {
          const answer = target.tasks?.serve(method, params);
          if (answer === undefined) return;
          answer.then(
            (value) => this.send(target, node.id, () => finish(() => resolve(value))),
            (error: unknown) => this.send(target, node.id, () => finish(() => reject(error as Error))),
          );
        });
      });
    // Only `call` is used by the agent; the rest of the client is the transport's.
    return { call } as unknown as RpcClient;
  }

  // ---- consensus, played by the world ----

  /** Whether `id` reaches a majority of the voters (itself included) both ways. */
  hasMajority(id: string): boolean {
    const voters = [...this.nodes.values()].filter((n) => n.voter);
    const reached = voters.filter((v) => v.id === id || (this.linkUp(id, v.id) && this.linkUp(v.id, id))).length;
    return this.nodes.get(id)?.alive === true && reached * 2 > voters.length;
  }

  /** Appends and applies a command at the leader; every replica applies it later. */
  commit(command: ClusterCommand): { index: number; result: ApplyResult } {
    const entry: LogEntry = { index: this.log.length + 1, term: this.term, data: entryData(command) };
    this.log.push(entry);
    const result = this.committed.apply(entry);
    this.note(`commit ${entry.index} ${describe(command)}${result.ok ? '' : ` refused: ${result.error.message}`}`);
    this.invariants.afterCommit(command, result);
    // The leader applies at once (its replica is the first to have it).
    const leader = this.leader === null ? undefined : this.nodes.get(this.leader);
    if (leader?.alive) this.catchUp(leader);
    return { index: entry.index, result };
  }

  /** An operator's command (create a pipeline, add a node): committed if a leader with a majority is there. */
  admin(command: ClusterCommand): boolean {
    if (this.leader === null || !this.hasMajority(this.leader)) return false;
    const { result } = this.commit(command);
    this.note(`admin ${command.type}${'name' in command ? ` ${command.name}` : ''}: ${result.ok ? 'ok' : result.error.message}`);
    return result.ok;
  }

  private write(node: SimNode, incarnation: number, command: ClusterCommand): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (node.incarnation !== incarnation || !node.alive) return reject(new WireError('UNAVAILABLE', 'the node is not running'));
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        fn();
      };
      node.clock.setTimeout(() => finish(() => reject(new WireError('TIMEOUT', `${command.type} did not commit in time`))), WRITE_TIMEOUT_MS);
      const leaderId = node.knownLeader;
      if (leaderId === null) return finish(() => reject(new WireError('UNAVAILABLE', 'no leader is known')));
      const atLeader = (leader: SimNode): void => {
        // A deposed leader, or one cut off from its majority, cannot commit: the write never answers.
        if (this.leader !== leader.id || !this.hasMajority(leader.id)) return;
        const { index, result } = this.commit(command);
        const answer = (): void => {
          if (node.incarnation !== incarnation) return;
          node.waiters.push({ index, result, resolve: (v) => finish(() => resolve(v)), reject: (e) => finish(() => reject(e)) });
          this.catchUp(node);
        };
        if (leader.id === node.id) answer();
        else this.send(leader, node.id, answer);
      };
      if (leaderId === node.id) atLeader(node);
      else this.send(node, leaderId, atLeader);
    });
  }

  private confirmLeader(node: SimNode, incarnation: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      // A read index: one round trip to a majority.
      node.clock.setTimeout(() => {
        if (node.incarnation !== incarnation) return;
        if (this.leader === node.id && this.hasMajority(node.id)) resolve(undefined);
        else reject(new WireError('NOT_LEADER', `${node.id} could not confirm it leads`));
      }, 2 * this.net.maxDelay);
    });
  }

  /** Applies every committed entry this replica lacks, then tells the node. */
  catchUp(node: SimNode): void {
    if (!node.alive) return;
    const before = node.state.applied().index;
    while (node.state.applied().index < this.log.length) node.state.apply(this.log[node.state.applied().index]!);
    if (node.state.applied().index === before && node.waiters.length === 0) return;
    const applied = node.state.applied().index;
    const ready = node.waiters.filter((w) => w.index <= applied);
    node.waiters = node.waiters.filter((w) => w.index > applied);
    for (const w of ready) {
      if (w.result.ok) w.resolve(w.result.outcome);
      else w.reject(w.result.error);
    }
    node.tasks?.applied();
  }

  /** The leader's heartbeats: replication and who leads. */
  heartbeat(): void {
    const leader = this.leader === null ? undefined : this.nodes.get(this.leader);
    // A paused leader sends nothing: its followers' election timeouts run.
    if (leader?.alive && !leader.clock.paused) {
      for (const node of this.nodes.values()) {
        if (node === leader) continue;
        const term = this.term;
        this.send(leader, node.id, (target) => {
          if (target.term > term) return;
          target.term = term;
          target.knownLeader = leader.id;
          this.catchUp(target);
        });
      }
    }
    this.elect();
  }

  /** A new leader once the current one is dead or without a majority for an election timeout. */
  private elect(): void {
    const current = this.leader === null ? undefined : this.nodes.get(this.leader);
    const ok = current !== undefined && current.alive && !current.clock.paused && this.hasMajority(current.id);
    if (ok) {
      this.electionDue = undefined;
      return;
    }
    this.electionDue ??= this.queue.now + 150 + this.prng.int(150);
    if (this.queue.now < this.electionDue) return;
    const candidates = [...this.nodes.values()].filter((n) => n.voter && n.alive && !n.clock.paused && this.hasMajority(n.id));
    if (candidates.length === 0) return;
    this.electionDue = undefined;
    this.transferTo(this.prng.pick(candidates));
  }

  /** `node` leads from now on, in a new term, with every committed entry. */
  transferTo(node: SimNode): void {
    this.term++;
    this.leader = node.id;
    node.term = this.term;
    node.knownLeader = node.id;
    this.catchUp(node);
    this.note(`${node.id} leads (term ${this.term})`);
  }

  private runnerFor(node: SimNode): TaskRunner {
    const hooks = {
      node: node.id,
      clock: node.clock,
      write: (event: Parameters<Invariants['write']>[0]) => this.invariants.write(event),
      started: (run: SimRun) => this.invariants.runStarted(run),
      ended: (run: SimRun) => this.invariants.runEnded(run),
    };
    return ({ task, store }) => new SimRun(task, store, hooks);
  }
}
