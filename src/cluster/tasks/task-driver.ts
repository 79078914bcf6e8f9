/**
 * The leader's side of tasks: the lease table the nodes renew with, and the loop that runs the controller
 * (`controller.ts`) and proposes what it decides, one round at a time. It works only while this node leads;
 * a new leader starts with a fresh table (every node gets a whole failover timeout).
 *
 * Leadership is a term, not a role: a node elected again without ever being seen as a follower in between
 * leads anew (a fresh table, a new grace), and a round's decisions are proposed only while the term it judged
 * leases in still leads here. A decision forwarded to another leader would be judged on leases that one did
 * not grant.
 */
import { WireError, errorMessage } from '../../core/errors.js';
import type { Clock, TimerHandle } from '../../raft/clock.js';
import type { ClusterCommand } from '../commands.js';
import type { NodeLog } from '../node-options.js';
import type { StateReader } from '../state-view.js';
import { planTasks, type TaskPartitionView } from './controller.js';
import { LeaseTable, type TaskStats } from './leases.js';
import { MAX_TASKS_PER_COMMAND } from './task-commands.js';

/** How often the leader's controller looks at the state and the leases. */
const ROUND_MS = 200;

export interface TaskDriverOptions {
  readonly clock: Clock;
  readonly failoverTimeoutMs: number;
  readonly state: () => StateReader;
  /** Proposes a command on this node, which leads. */
  readonly propose: (command: ClusterCommand) => Promise<unknown>;
  /** Whether this node leads now, and in which Raft term. */
  readonly leadership: () => Leadership;
  readonly partitionsOf: (source: Record<string, unknown>) => Promise<readonly TaskPartitionView[]>;
  readonly log: NodeLog;
  /** Grows whenever the state changes beyond checkpoints (`ClusterStateMachine.shapeVersion`); without it every round runs. */
  readonly stateShape?: () => number;
}

export interface Leadership {
  readonly isLeader: boolean;
  readonly term: number;
}

export class TaskDriver {
  readonly leases: LeaseTable;
  /** The term this node leads in (its lease table's), while it leads. */
  private term = 0;
  private timer: TimerHandle | undefined;
  private round: Promise<void> | undefined;
  /** Each pipeline's partitions, for the version they were computed for. */
  private readonly partitions = new Map<string, { version: number; partitions: readonly TaskPartitionView[] }>();
  private readonly computing = new Set<string>();
  /** The last partitioning error of each pipeline, for its status. */
  readonly partitionErrors = new Map<string, string>();
  /** Counts partitionings that finished: a round's input. */
  private partitioned = 0;
  /** The inputs of the last round that had nothing to propose: the same inputs again would decide nothing either. */
  private idleInputs: string | undefined;

  constructor(private readonly o: TaskDriverOptions) {
    this.leases = new LeaseTable(o.clock, o.failoverTimeoutMs);
  }

  /** This node's leadership, as Raft sees it now. */
  leading({ isLeader, term }: Leadership): void {
    // A new term is a new leadership, even if this node was never seen to step down in between.
    if (isLeader && this.leases.leading && term !== this.term) this.leading({ isLeader: false, term });
    if (isLeader) this.term = term;
    if (isLeader === this.leases.leading) return;
    if (isLeader) {
      this.leases.lead();
      this.timer = this.o.clock.setInterval(() => this.tick(), ROUND_MS);
    } else {
      this.leases.follow();
      if (this.timer !== undefined) this.o.clock.clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  /**
   * A node's renewal. NOT_LEADER when this node does not lead (the node asks the leader it knows). `stats`
   * undefined: the renewal carried none (they come once a second), and the last ones stay.
   */
  renew(node: string, stats: readonly TaskStats[] | undefined, leaving: boolean): void {
    if (!this.leases.leading) throw new WireError('NOT_LEADER', 'this node does not lead: renew the lease with the leader');
    this.leases.renew(node, stats);
    if (leaving) this.leases.leave(node);
  }

  stop(): void {
    this.leading({ isLeader: false, term: this.term });
  }

  private tick(): void {
    this.leading(this.o.leadership());
    if (this.round || !this.leases.leading) return;
    this.round = this.runRound(this.term)
      .catch((error: unknown) => this.o.log.debug(`task controller: ${errorMessage(error)}`))
      .finally(() => (this.round = undefined));
  }

  /**
   * What a round decides from, short of reading the whole state: the state's shape, the partitions known, and who is
   * alive or leaving (which changes with time alone). Checkpoints move the applied index several times a second and
   * change no decision; reading 1,000 tasks and pipelines five times a second was a quarter of the leader's time.
   */
  private inputs(state: StateReader, term: number): string | undefined {
    if (this.o.stateShape === undefined) return undefined;
    const nodes = state.nodes().map((n) => `${n.id}${this.leases.alive(n.id) ? '+' : '-'}${this.leases.isLeaving(n.id) ? 'l' : ''}`);
    return `${term}:${this.o.stateShape()}:${this.partitioned}:${nodes.join(',')}`;
  }

  private async runRound(term: number): Promise<void> {
    const state = this.o.state();
    const inputs = this.inputs(state, term);
    if (inputs !== undefined && inputs === this.idleInputs) return;
    this.idleInputs = undefined;
    const pipelines = state.pipelines();
    for (const p of pipelines) if (this.partitions.get(p.name)?.version !== p.version) this.computePartitions(p.name, p.version, p.spec);
    for (const name of this.partitions.keys()) if (!state.pipeline(name)) this.partitions.delete(name);
    const plan = planTasks({
      pipelines,
      partitions: this.partitions,
      tasks: state.tasks(),
      nodes: state.nodes(),
      alive: (n) => this.leases.alive(n),
      leaving: (n) => this.leases.isLeaving(n),
      firstEpoch: state.applied().index + 1,
    });
    if (plan.drain.length + plan.assign.length + plan.remove.length === 0 && this.computing.size === 0) this.idleInputs = inputs;
    const at = Date.now();
    const propose = (command: ClusterCommand): Promise<unknown> => {
      const now = this.o.leadership();
      if (!now.isLeader || now.term !== term || this.term !== term) return Promise.reject(new WireError('NOT_LEADER', `the plan of term ${term} is dropped: this node no longer leads in it`));
      return this.o.propose(command);
    };
    for (const part of chunks(plan.drain)) await propose({ v: 1, type: 'task.drain', tasks: part, at });
    for (const part of chunks(plan.assign)) await propose({ v: 1, type: 'task.assign', assignments: part.map((a) => ({ ...a, source: { ...a.source } })), at });
    for (const part of chunks(plan.remove)) await propose({ v: 1, type: 'task.remove', tasks: part, at });
  }

  private computePartitions(name: string, version: number, spec: Readonly<Record<string, unknown>>): void {
    const key = `${name}@${version}`;
    if (this.computing.has(key)) return;
    this.computing.add(key);
    const source = spec['source'] as Record<string, unknown>;
    this.o
      .partitionsOf(source)
      .then(
        (partitions) => {
          this.partitions.set(name, { version, partitions });
          this.partitionErrors.delete(name);
          this.partitioned++;
        },
        (error: unknown) => {
          this.partitionErrors.set(name, errorMessage(error));
          this.o.log.warn(`pipeline ${name}: cannot split it into tasks: ${errorMessage(error)}`);
        },
      )
      .finally(() => this.computing.delete(key));
  }
}

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += MAX_TASKS_PER_COMMAND) out.push(items.slice(i, i + MAX_TASKS_PER_COMMAND));
  return out;
}
