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

type Fault = 'net' | 'partition' | 'crash' | 'slowdisk' | 'churn' | 'lag' | 'transfer' | 'campaign' | 'clock' | 'corrupt';

const FAULTS: Record<MixName, readonly Fault[]> = {
  net: ['net', 'clock'],
  partition: ['partition', 'clock'],
  crash: ['crash', 'corrupt'],
  slowdisk: ['slowdisk', 'crash'],
  churn: ['churn', 'churn', 'crash'],
  snapshot: ['lag', 'crash'],
  transfer: ['transfer', 'net', 'campaign'],
  mixed: ['net', 'partition', 'crash', 'slowdisk', 'churn', 'lag', 'transfer', 'campaign', 'clock'],
};

/** Most clock drift: election timeouts must hold with clocks this far apart. */
const MAX_DRIFT = 0.05;

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
  /** A membership change in flight (one at a time). */
  private changing = false;
  /** Bit flips are injected on at most one node, so a quorum always survives the refusals they cause. */
  private corrupted: NodeId | null = null;
  readonly counts: Record<string, number> = {};

  constructor(
    private readonly cluster: Cluster,
    private readonly prng: Prng,
    private readonly opts: NemesisOptions,
  ) {}

  start(): void {
    this.cluster.onRefusal = (node) => this.cluster.queue.schedule(50, () => this.repair(node.id));
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
        const node = c.node(id);
        if (!node.running) return;
        const down = this.prng.range(20, 400);
        const cut = (): void => {
          if (!node.running) return;
          c.crash(id);
          c.queue.schedule(down, () => {
            if (!this.healed) c.restart(id);
          });
        };
        this.count('crash');
        // Half the time the power goes while an fsync runs: the writes it covers are in flight.
        if (this.prng.chance(0.5)) {
          this.note(`crash ${id} during its next fsync, for ${down}ms`);
          node.disk.onNextSync = cut;
        } else {
          this.note(`crash ${id} for ${down}ms`);
          cut();
        }
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
        this.count('transfer');
        this.note(`transfer leadership from ${leader.id} to ${to ?? 'the most up-to-date voter'}`);
        this.settle(leader.raft!.transferLeadership(to), (r) => `transfer from ${leader.id}: ${r}`);
        return;
      }
      case 'campaign': {
        // An early campaign (as a forming founder makes): safe at any time, and refused while a leader is live.
        const node = c.node(this.prng.pick(ids));
        if (!node.running || node.raft === null) return;
        const started = node.raft.campaign();
        this.count('campaign');
        this.note(`${node.id} campaigns now (${started ? 'started' : 'refused: a leader, a candidate or not a voter'})`);
        return;
      }
      case 'clock': {
        const node = c.node(this.prng.pick(ids));
        if (this.prng.chance(0.5)) {
          const rate = 1 + (this.prng.next() * 2 - 1) * MAX_DRIFT;
          node.clock.setRate(rate);
          this.note(`${node.id} clock runs at ${rate.toFixed(3)}x`);
          this.count('drift');
        } else {
          const ms = this.prng.range(20, 300);
          node.clock.pause(ms);
          this.note(`${node.id} pauses for ${ms}ms`);
          this.count('pause');
        }
        return;
      }
      case 'corrupt': {
        // Power loss, then one bit of durable data flipped: the node must refuse to start or recover
        // without forgetting anything it had made durable.
        // A node that refuses to start is out for good: only a cluster of three voters or more keeps a quorum.
        if (c.founders.length - (c.config.learners ?? 0) < 3) return;
        const id = this.corrupted ?? this.prng.pick(ids);
        const node = c.node(id);
        if (!node.running) return;
        this.corrupted = id;
        c.crash(id);
        const where = node.disk.flipBit();
        this.count('corrupt');
        this.note(`crash ${id} and flip a bit in ${where ?? 'nothing (empty disk)'}`);
        c.queue.schedule(this.prng.range(20, 200), () => {
          if (!this.healed) c.restart(id);
        });
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

  /**
   * The documented repair of a node that refuses to start on corrupt storage: its data is set aside,
   * it is removed from the configuration, and a fresh member takes its place, catching up from the
   * leader (by snapshot when the log is compacted) before it is promoted.
   */
  private repair(id: NodeId): void {
    const c = this.cluster;
    const leader = c.leader();
    if (this.healed) return;
    if (leader === undefined || this.changing) {
      c.queue.schedule(100, () => this.repair(id));
      return;
    }
    const raft = leader.raft!;
    this.changing = true;
    this.count('repair');
    this.note(`repair ${id}: remove it, and add a fresh member in its place`);
    const retry = (): void => {
      this.changing = false;
      c.queue.schedule(100, () => this.repair(id));
    };
    this.settle(raft.removeServer(id, 600), (r) => `repair: remove ${id}: ${r}`, (removed) => {
      if (!removed) return retry();
      const member = c.startJoiner();
      this.settle(raft.addLearner(member, 600), (r) => `repair: add learner ${member.id}: ${r}`, (added) => {
        if (!added) {
          this.changing = false;
          return;
        }
        this.settle(raft.promote(member.id, 1500), (r) => `repair: promote ${member.id}: ${r}`, () => {
          this.changing = false;
        });
      });
    });
  }

  /** Notes how an asynchronous request to the cluster ended. */
  private settle<T>(p: Promise<T>, describe: (outcome: string) => string, after?: (ok: boolean) => void): void {
    p.then(
      (v) => {
        this.note(describe(`ok${v === undefined ? '' : ` (${String(v)})`}`));
        after?.(true);
      },
      (err: unknown) => {
        this.note(describe(`failed: ${(err as Error).message}`));
        after?.(false);
      },
    );
  }

  /**
   * One step of membership churn, through the production API: add a learner, promote it (the node
   * waits until it has caught up), or remove a voter — the leader included, down to one voter.
   */
  private churn(): void {
    const c = this.cluster;
    const leader = c.leader();
    if (leader === undefined || this.changing) return;
    const raft = leader.raft!;
    const status = leader.status()!;
    const voters = status.membership.voters.map((v) => v.id);
    const done = (): void => {
      this.changing = false;
    };
    this.changing = true;
    if (this.learner !== null) {
      const learner = this.learner;
      if (!status.membership.learners.some((l) => l.id === learner)) {
        // The learner never made it into the configuration (the change was lost); forget it.
        if (!voters.includes(learner)) this.learner = null;
        return done();
      }
      this.count('promote');
      this.note(`promote ${learner}`);
      this.settle(raft.promote(learner, 600), (r) => `promote ${learner}: ${r}`, (ok) => {
        if (ok) this.learner = null;
        done();
      });
      return;
    }
    if (voters.length < this.opts.maxVoters && (voters.length <= 1 || this.prng.chance(0.5))) {
      const member = c.startJoiner();
      this.learner = member.id;
      this.count('addLearner');
      this.note(`add learner ${member.id}`);
      this.settle(raft.addLearner(member, 600), (r) => `add learner ${member.id}: ${r}`, done);
      return;
    }
    if (voters.length <= 1) return done();
    const victim = this.prng.pick(voters);
    this.count('remove');
    this.note(`remove ${victim}`);
    this.settle(raft.removeServer(victim, 600), (r) => `remove ${victim}: ${r}`, done);
  }

  /** Ends every fault: calm network, no partition, normal disks, every crashed node back up. */
  heal(): void {
    this.healed = true;
    const c = this.cluster;
    c.net.faults = { ...CALM_NETWORK };
    c.net.heal();
    for (const node of c.nodes.values()) {
      node.disk.onNextSync = undefined;
      node.disk.fsyncMin = 0;
      node.disk.fsyncMax = 1;
      node.clock.setRate(1);
      if (!node.running) c.restart(node.id);
    }
    this.note('heal everything');
  }
}
