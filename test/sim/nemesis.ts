/**
 * The fault injector. A mix names the kinds of faults a seed suffers; during the fault phase the
 * nemesis picks one of them at random intervals. `heal` ends every fault so liveness can be checked.
 */
import type { NodeId } from '../../src/raft/core/types.js';
import type { Cluster } from './cluster.js';
import { CALM_NETWORK } from './network.js';
import type { Prng } from './prng.js';

export const MIXES = ['net', 'partition', 'crash', 'slowdisk', 'churn', 'snapshot', 'transfer', 'mixed'] as const;
export type MixName = (typeof MIXES)[number];

type Fault = 'net' | 'partition' | 'crash' | 'slowdisk' | 'churn' | 'lag' | 'transfer';

const FAULTS: Record<MixName, readonly Fault[]> = {
  net: ['net'],
  partition: ['partition'],
  crash: ['crash'],
  slowdisk: ['slowdisk', 'crash'],
  churn: ['churn'],
  snapshot: ['lag', 'crash'],
  transfer: ['transfer', 'net'],
  mixed: ['net', 'partition', 'crash', 'slowdisk', 'churn', 'lag', 'transfer'],
};

export interface NemesisOptions {
  readonly mix: MixName;
  /** Faults stop at this simulated time. */
  readonly until: number;
  /** Bounds on the time between two faults. */
  readonly minGapMs: number;
  readonly maxGapMs: number;
  /** Most voters churn may grow the cluster to. */
  readonly maxVoters: number;
}

export class Nemesis {
  private healed = false;
  /** A learner added by churn that is waiting to be promoted. */
  private learner: NodeId | null = null;
  readonly counts: Record<string, number> = {};

  constructor(
    private readonly cluster: Cluster,
    private readonly prng: Prng,
    private readonly opts: NemesisOptions,
  ) {}

  start(): void {
    if (FAULTS[this.opts.mix].includes('crash')) {
      // A disk a little slower than instant, so crashes often catch writes not yet synced.
      for (const node of this.cluster.nodes.values()) {
        node.disk.fsyncMin = 1;
        node.disk.fsyncMax = 8;
      }
    }
    this.scheduleNext();
  }

  private scheduleNext(): void {
    this.cluster.queue.schedule(this.prng.range(this.opts.minGapMs, this.opts.maxGapMs), () => {
      if (this.healed || this.cluster.queue.now >= this.opts.until) return;
      this.act(this.prng.pick(FAULTS[this.opts.mix]));
      this.scheduleNext();
    });
  }

  private count(what: string): void {
    this.counts[what] = (this.counts[what] ?? 0) + 1;
  }

  private note(line: string): void {
    this.cluster.trace.add(`nemesis: ${line}`);
  }

  private act(fault: Fault): void {
    const c = this.cluster;
    const ids = [...c.nodes.keys()];
    switch (fault) {
      case 'net': {
        c.net.faults = {
          loss: this.prng.next() * 0.2,
          dup: this.prng.next() * 0.1,
          minDelay: 1,
          maxDelay: this.prng.range(2, 40),
        };
        this.count('net');
        this.note(`network loss ${c.net.faults.loss.toFixed(2)} dup ${c.net.faults.dup.toFixed(2)} delay 1..${c.net.faults.maxDelay}ms`);
        return;
      }
      case 'partition':
        this.partition(ids);
        return;
      case 'crash': {
        const id = this.prng.pick(ids);
        if (!c.node(id).up) return;
        c.crash(id);
        this.count('crash');
        const down = this.prng.range(20, 400);
        this.note(`crash ${id} for ${down}ms`);
        c.queue.schedule(down, () => {
          if (!this.healed) c.restart(id);
        });
        return;
      }
      case 'slowdisk': {
        const node = c.node(this.prng.pick(ids));
        node.disk.fsyncMin = this.prng.range(2, 20);
        node.disk.fsyncMax = node.disk.fsyncMin + this.prng.range(0, 60);
        this.count('slowdisk');
        this.note(`${node.id} disk fsync ${node.disk.fsyncMin}..${node.disk.fsyncMax}ms`);
        return;
      }
      case 'lag': {
        // A follower cut off for a while falls behind the compaction point and needs a snapshot.
        const leader = c.leader();
        const victims = ids.filter((id) => id !== leader?.id);
        const victim = this.prng.pick(victims.length > 0 ? victims : ids);
        c.net.isolate(victim, ids);
        this.count('lag');
        const span = this.prng.range(200, 700);
        this.note(`isolate ${victim} for ${span}ms`);
        c.queue.schedule(span, () => {
          if (!this.healed) c.net.heal();
        });
        return;
      }
      case 'transfer': {
        const leader = c.leader();
        if (leader === undefined) return;
        const voters = leader.status()!.membership.voters.map((v) => v.id).filter((id) => id !== leader.id);
        const to = voters.length > 0 && this.prng.chance(0.7) ? this.prng.pick(voters) : undefined;
        const r = leader.transferLeadership(to);
        this.count('transfer');
        this.note(`transfer leadership from ${leader.id} to ${to ?? 'the most up-to-date voter'}: ${r.ok ? `ok (${r.to})` : r.reason}`);
        return;
      }
      case 'churn':
        this.churn();
        return;
    }
  }

  private partition(ids: NodeId[]): void {
    const c = this.cluster;
    c.net.heal();
    const kind = this.prng.int(4);
    if (kind === 0) {
      this.note('heal partitions');
      return;
    }
    this.count('partition');
    if (kind === 1) {
      const shuffled = ids.map((id) => ({ id, r: this.prng.next() })).sort((a, b) => a.r - b.r).map((x) => x.id);
      const cut = 1 + this.prng.int(Math.max(1, shuffled.length - 1));
      const a = shuffled.slice(0, cut);
      const b = shuffled.slice(cut);
      c.net.partition(a, b);
      this.note(`partition {${a.join(',')}} | {${b.join(',')}}`);
    } else if (kind === 2) {
      const from = this.prng.pick(ids);
      const rest = ids.filter((id) => id !== from);
      const chosen = rest.filter(() => this.prng.chance(0.5));
      const to = chosen.length > 0 ? chosen : [this.prng.pick(rest)];
      c.net.partitionOneWay([from], to);
      this.note(`one-way: ${from} cannot reach {${to.join(',')}}`);
    } else {
      const leader = c.leader();
      const victim = leader?.id ?? this.prng.pick(ids);
      c.net.isolate(victim, ids);
      this.note(`isolate ${leader !== undefined ? 'leader ' : ''}${victim}`);
    }
  }

  /** One step of membership churn: add a learner, promote it once caught up, or remove a voter. */
  private churn(): void {
    const c = this.cluster;
    const leader = c.leader();
    if (leader === undefined) return;
    const status = leader.status()!;
    const voters = status.membership.voters.map((v) => v.id);
    if (this.learner !== null) {
      const pr = status.progress.find((p) => p.id === this.learner);
      if (pr === undefined) {
        // The learner never made it into the configuration (the change was lost); forget it.
        if (!status.membership.learners.some((l) => l.id === this.learner)) this.learner = null;
        return;
      }
      if (pr.match + 2 >= status.commit) {
        const r = leader.proposeConfChange({ op: 'promote', id: this.learner });
        this.note(`promote ${this.learner}: ${r.ok ? `index ${r.index}` : r.reason}`);
        if (r.ok) {
          this.count('promote');
          this.learner = null;
        }
      }
      return;
    }
    if (voters.length < this.opts.maxVoters && (voters.length <= 3 || this.prng.chance(0.5))) {
      const member = c.startJoiner();
      const r = leader.proposeConfChange({ op: 'addLearner', member });
      this.note(`add learner ${member.id}: ${r.ok ? `index ${r.index}` : r.reason}`);
      if (r.ok) {
        this.learner = member.id;
        this.count('addLearner');
      }
      return;
    }
    const victim = this.prng.pick(voters);
    const r = leader.proposeConfChange({ op: 'remove', id: victim });
    this.note(`remove ${victim}: ${r.ok ? `index ${r.index}` : r.reason}`);
    if (r.ok) this.count('remove');
  }

  /** Ends every fault: calm network, no partition, normal disks, every crashed node back up. */
  heal(): void {
    this.healed = true;
    const c = this.cluster;
    c.net.faults = { ...CALM_NETWORK };
    c.net.heal();
    for (const node of c.nodes.values()) {
      node.disk.fsyncMin = 0;
      node.disk.fsyncMax = 1;
      if (!node.up) c.restart(node.id);
    }
    this.note('heal everything');
  }
}
