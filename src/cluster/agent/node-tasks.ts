/**
 * Tasks on one node, put together: the agent and its held lease, the lease renewals, the cluster checkpoint
 * store, and (while this node leads) the controller's driver and its lease table. `node.ts` creates it once Raft
 * runs and hands it the `lease.renew` RPC.
 *
 * Leases are answered only by a leader that has confirmed it leads since the renewal arrived (a majority of the
 * voters still in its term: `tasks/leadership-check.ts`; one check shared by every renewal waiting), and a node
 * counts its lease from before it asked: a deposed leader cut off with a minority cannot keep a node's tasks alive
 * while the majority's leader gives them away.
 */
import { Histogram, type Registry } from 'prom-client';
import { WireError, errorMessage } from '../../core/errors.js';
import type { Clock, TimerHandle } from '../../raft/clock.js';
import { ClusterCheckpoints, type CheckpointItem } from '../checkpoint-store/cluster-checkpoints.js';
import type { ClusterCommand } from '../commands.js';
import type { NodeLog } from '../node-options.js';
import type { RpcClient } from '../rpc.js';
import type { StateReader } from '../state-view.js';
import type { TaskPartitionView } from '../tasks/controller.js';
import { SharedConfirmation, TERM_METHOD } from '../tasks/leadership-check.js';
import { HeldLease, leaseMsFor, renewEveryMsFor, type TaskStats } from '../tasks/leases.js';
import { TaskDriver, type Leadership } from '../tasks/task-driver.js';
import type { RefusedCheckpoint, TaskOutcome } from '../tasks/task-transitions.js';
import { TaskAgent, type AgentBackoff } from './agent.js';
import type { TaskRunner } from './task-runs.js';

export const DEFAULT_FAILOVER_TIMEOUT_MS = 2000;

/** A lease's worth of renewals (four per lease): more would only pile up on a leader that is slow to answer. */
const MAX_RENEWALS_IN_FLIGHT = 4;

/**
 * How often a renewal carries the node's task stats (the others carry none, and the leader keeps the last): stats
 * are for people, and at 1,000 tasks building, sending and decoding them with every renewal (four a lease) cost more
 * than the lease itself.
 */
export const STATS_EVERY_MS = 1000;

/** What a node needs to run tasks (`wire node` builds it: the engine and the connectors live outside `cluster/`). */
export interface TaskOptions {
  readonly runner: TaskRunner;
  readonly partitionsOf: (source: Record<string, unknown>) => Promise<readonly TaskPartitionView[]>;
  /** A node silent this long loses its tasks (default 2 s); its lease is half of it. */
  readonly failoverTimeoutMs?: number;
  /** How often a node commits its tasks' checkpoints, all in one Raft entry (default 1 s). */
  readonly checkpointIntervalMs?: number;
  readonly backoff?: AgentBackoff;
}

export interface RaftView {
  readonly role: string;
  readonly term: number;
  readonly leader: string | null;
  readonly leaderAddress: string | null;
  /** The last index of this node's log (a leader's: every entry it has appended, committed or not). */
  readonly lastIndex?: number;
}

export interface NodeTasksDeps {
  readonly nodeId: string;
  readonly options: TaskOptions;
  readonly clock: Clock;
  readonly state: () => StateReader;
  readonly log: NodeLog;
  readonly rpc: RpcClient;
  /** Raft's view: this node's role and where the leader is. */
  readonly raft: () => RaftView | undefined;
  /** Resolves once a majority of the voters confirmed, after the call, that this node leads (`leadership-check.ts`). */
  readonly confirmLeader: () => Promise<unknown>;
  /** Proposes through the leader (forwarded when this node follows); resolves with the outcome. */
  readonly write: (command: ClusterCommand) => Promise<unknown>;
  /** Where the tasks' own metrics go (the node's registry). */
  readonly metrics: Registry;
  /** Grows whenever the state changes beyond checkpoints (`ClusterStateMachine.shapeVersion`); without it every apply reconciles. */
  readonly stateShape?: () => number;
}

export class NodeTasks {
  readonly lease: HeldLease;
  readonly driver: TaskDriver;
  private readonly agent: TaskAgent;
  private readonly checkpoints: ClusterCheckpoints;
  private readonly failoverTimeoutMs: number;
  private timer: TimerHandle | undefined;
  /** Renewals in flight: a slow one must not hold back the next (each counts from its own sending). */
  private renewing = 0;
  private statsSentAt = -Infinity;
  private leaving = false;
  private reconciledShape: number | undefined;
  /** Whether this replica had applied as far as the lease's last grant at the last pass (else every apply reconciles). */
  private reconciledCaughtUp = false;
  private readonly commitSeconds: Histogram;
  private readonly renewalSeconds: Histogram;
  private readonly confirmation: SharedConfirmation;

  constructor(private readonly d: NodeTasksDeps) {
    this.commitSeconds = new Histogram({
      name: 'wire_task_checkpoint_commit_seconds',
      help: "Time to commit one batch of this node's task checkpoints through Raft (one entry per interval).",
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers: [d.metrics],
    });
    this.renewalSeconds = new Histogram({
      name: 'wire_task_lease_renewal_seconds',
      help: "Time from sending this node's lease renewal to the leader's grant.",
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers: [d.metrics],
    });
    this.confirmation = new SharedConfirmation(d.confirmLeader);
    this.failoverTimeoutMs = d.options.failoverTimeoutMs ?? DEFAULT_FAILOVER_TIMEOUT_MS;
    this.lease = new HeldLease(d.clock, leaseMsFor(this.failoverTimeoutMs));
    this.checkpoints = new ClusterCheckpoints({
      state: d.state,
      clock: d.clock,
      intervalMs: d.options.checkpointIntervalMs,
      commit: (items) => this.commit(items),
      onRefused: (r) => this.agent.refused(r),
    });
    this.agent = new TaskAgent({
      nodeId: d.nodeId,
      state: d.state,
      clock: d.clock,
      lease: this.lease,
      checkpoints: this.checkpoints,
      runner: d.options.runner,
      release: async (pipeline, task, epoch) => void (await d.write({ v: 1, type: 'task.release', pipeline, task, epoch, node: d.nodeId, at: Date.now() })),
      log: d.log,
      backoff: d.options.backoff,
    });
    this.driver = new TaskDriver({
      clock: d.clock,
      failoverTimeoutMs: this.failoverTimeoutMs,
      state: d.state,
      propose: (command) => d.write(command),
      leadership: () => this.leadership(),
      partitionsOf: d.options.partitionsOf,
      log: d.log,
      ...(d.stateShape ? { stateShape: d.stateShape } : {}),
    });
  }

  start(): void {
    this.agent.start();
    this.timer = this.d.clock.setInterval(() => this.renew(), renewEveryMsFor(this.failoverTimeoutMs));
    this.renew();
  }

  /**
   * Entries were applied: assignments may have changed. Not when only checkpoints moved (several times a second, and
   * each pass reads every task) unless starts wait for this replica to catch up with a lease grant; the agent's own
   * periodic pass catches anything else.
   */
  applied(): void {
    const shape = this.d.stateShape?.();
    if (shape !== undefined && shape === this.reconciledShape && this.reconciledCaughtUp) return;
    this.reconciledShape = shape;
    this.reconciledCaughtUp = this.lease.caughtUp(this.d.state().applied().index);
    this.agent.reconcile();
  }

  /** The cluster RPC methods of tasks; undefined for any other method. */
  serve(method: string, params: Record<string, unknown>): Promise<unknown> | undefined {
    if (method === 'lease.renew') return this.answerRenewal(params);
    if (method === 'tasks.stats') return this.leaderStats();
    if (method === TERM_METHOD) return this.term();
    return undefined;
  }

  /** Every node's last reported stats, from the leader (asked over the RPC when this node follows). */
  async allStats(): Promise<Record<string, readonly TaskStats[]>> {
    const raft = this.d.raft();
    if (raft?.role === 'leader') return this.leaderStats();
    if (!raft || raft.leaderAddress === null) throw new WireError('UNAVAILABLE', 'no leader is known: task stats live on the leader');
    return (await this.d.rpc.call(raft.leaderAddress, 'tasks.stats', {}, 5000)) as Record<string, readonly TaskStats[]>;
  }

  private async leaderStats(): Promise<Record<string, readonly TaskStats[]>> {
    if (this.d.raft()?.role !== 'leader') throw new WireError('NOT_LEADER', 'this node does not lead');
    return Object.fromEntries(this.d.state().nodes().map((n) => [n.id, this.driver.leases.stats(n.id)]));
  }

  /** This node's own tasks' stats. */
  ownStats(): TaskStats[] {
    return this.agent.stats();
  }

  /** A clean leave: the leader stops giving this node tasks, each task stops at a checkpoint and is released. */
  async leave(): Promise<void> {
    this.leaving = true;
    this.renew();
    await this.agent.drainAll();
  }

  close(): void {
    if (this.timer !== undefined) this.d.clock.clearInterval(this.timer);
    this.timer = undefined;
    this.agent.close();
    this.driver.stop();
    this.checkpoints.close();
  }

  private async answerRenewal(params: Record<string, unknown>): Promise<unknown> {
    const node = params['node'];
    if (typeof node !== 'string') throw new WireError('INVALID_INPUT', 'lease.renew: node must be a string', { field: 'node' });
    const stats = Array.isArray(params['stats']) ? (params['stats'] as TaskStats[]) : undefined;
    if (this.d.raft()?.role !== 'leader') throw new WireError('NOT_LEADER', 'this node does not lead');
    await this.confirmation.confirmed();
    this.driver.renew(node, stats, params['leaving'] === true);
    // Everything this leader has decided is at or before this index: the node starts nothing before it applied that far.
    const raft = this.d.raft();
    return { index: Math.max(raft?.lastIndex ?? 0, this.d.state().applied().index) };
  }

  /** This node's current Raft term, for a leader confirming it still leads. */
  private async term(): Promise<{ term: number }> {
    const raft = this.d.raft();
    if (raft === undefined) throw new WireError('UNAVAILABLE', 'Raft is not running here');
    return { term: raft.term };
  }

  private leadership(): Leadership {
    const raft = this.d.raft();
    return { isLeader: raft?.role === 'leader', term: raft?.term ?? 0 };
  }

  private renew(): void {
    const raft = this.d.raft();
    this.driver.leading(this.leadership());
    if (this.renewing >= MAX_RENEWALS_IN_FLIGHT || raft === undefined) return;
    this.renewing++;
    const sentAt = this.lease.sending();
    const stop = this.renewalSeconds.startTimer();
    const now = this.d.clock.now();
    const withStats = now - this.statsSentAt >= STATS_EVERY_MS || this.leaving;
    if (withStats) this.statsSentAt = now;
    const params = { node: this.d.nodeId, leaving: this.leaving, ...(withStats ? { stats: this.agent.stats() } : {}) };
    const leaseMs = leaseMsFor(this.failoverTimeoutMs);
    const call =
      raft.role === 'leader'
        ? this.answerRenewal(params)
        : raft.leaderAddress === null
          ? Promise.reject(new WireError('UNAVAILABLE', 'no leader is known'))
          : this.d.rpc.call(raft.leaderAddress, 'lease.renew', params, leaseMs);
    call
      .then(
        (answer: unknown) => {
          const index = (answer as { index?: unknown } | undefined)?.index;
          stop();
          const gap = !this.lease.valid();
          this.lease.granted(sentAt, typeof index === 'number' ? index : 0);
          // A lease taken up again may start runs; one that held changes nothing (applies reconcile on their own).
          if (gap) {
            this.reconciledCaughtUp = false;
            this.agent.reconcile();
          }
        },
        (error: unknown) => this.d.log.debug(`lease renewal: ${errorMessage(error)}`),
      )
      .finally(() => this.renewing--);
  }

  private async commit(items: readonly CheckpointItem[]): Promise<readonly RefusedCheckpoint[]> {
    const stop = this.commitSeconds.startTimer();
    // Fields in the order `canonicalize` keeps (the items' too): encoded as they are, not copied to sort them.
    const outcome = (await this.d.write({ at: Date.now(), checkpoints: [...items], node: this.d.nodeId, type: 'checkpoint.commit', v: 1 })) as TaskOutcome;
    stop();
    if (outcome.kind !== 'checkpoints') throw new WireError('INTERNAL', `checkpoint.commit answered ${outcome.kind}`);
    const refused = new Set(outcome.refused.map((r) => `${r.pipeline}\u0000${r.task}`));
    for (const i of items) if (!refused.has(`${i.pipeline}\u0000${i.task}`)) this.agent.checkpointed(i.pipeline, i.task);
    return outcome.refused;
  }
}
