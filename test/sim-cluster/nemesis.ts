/**
 * The faults and the operator's changes of a seed: node deaths and restarts, clean leaves, joins, network
 * partitions (both ways and one way), lossy links, process pauses, clock drift, leadership changes, and
 * pipelines created, started, stopped, paused, updated to another number of partitions, rolled back and deleted.
 */
import type { ClusterCommand } from '../../src/cluster/commands.js';
import type { Prng } from '../sim/prng.js';
import type { SimNode, World } from './world.js';

const PIPELINES = ['orders', 'clicks', 'audit', 'metrics'];
const ZONES = ['a', 'b'];

/** A stored pipeline spec: generate with `partitions`, into drop; sometimes placed by label or node. */
export function specOf(name: string, partitions: number, placement?: Record<string, unknown>): Record<string, unknown> {
  return {
    name,
    source: { type: 'generate', config: { partitions } },
    sink: { type: 'drop', config: {} },
    ...(placement === undefined ? {} : { placement }),
  };
}

export function nodeUpsert(id: string, voter: boolean, zone: string): ClusterCommand {
  return {
    v: 1,
    type: 'node.upsert',
    node: { id, raftAddress: `${id}:4002`, httpAddress: `${id}:4001`, role: voter ? 'voter' : 'learner', labels: { zone } },
    at: 0,
  };
}

export function zoneOf(index: number): string {
  return ZONES[index % ZONES.length]!;
}

export class Nemesis {
  private nextNode: number;

  constructor(
    private readonly world: World,
    private readonly prng: Prng,
    founders: number,
    private readonly maxNodes: number,
  ) {
    this.nextNode = founders + 1;
  }

  /** One random change, now. */
  step(): void {
    const w = this.world;
    const roll = this.prng.int(100);
    if (roll < 30) this.pipelineChange();
    else if (roll < 42) this.kill();
    else if (roll < 52) this.cut();
    else if (roll < 60) this.pause();
    else if (roll < 68) this.drift();
    else if (roll < 74) this.transfer();
    else if (roll < 80) this.join();
    else if (roll < 84) this.leave();
    else if (roll < 90) this.loss();
    else this.restartOne();
    void w;
  }

  /** Everything heals: links, loss, clocks; the dead restart. */
  heal(): void {
    const w = this.world;
    w.cuts.clear();
    w.net.loss = 0;
    for (const node of w.nodes.values()) {
      node.clock.setRate(1);
      if (!node.alive) w.start(node);
    }
    w.note('heal');
  }

  private live(): SimNode[] {
    return [...this.world.nodes.values()].filter((n) => n.alive);
  }

  private pipelineChange(): void {
    const w = this.world;
    const name = this.prng.pick(PIPELINES);
    const p = w.committed.pipeline(name);
    const at = 0;
    if (p === undefined) {
      const placement = this.prng.chance(0.2) ? { labels: { zone: this.prng.pick(ZONES) } } : undefined;
      const desired = this.prng.chance(0.8) ? 'running' : 'stopped';
      w.admin({ v: 1, type: 'pipeline.create', name, spec: specOf(name, this.prng.range(1, 4), placement), desired, at });
      return;
    }
    const roll = this.prng.int(10);
    if (roll < 4) {
      const desired = this.prng.pick(['running', 'running', 'stopped', 'paused'] as const);
      w.admin({ v: 1, type: 'pipeline.setDesired', name, desired, at });
    } else if (roll < 7) {
      w.admin({ v: 1, type: 'pipeline.replace', name, spec: specOf(name, this.prng.range(1, 5)), at });
    } else if (roll < 8 && p.version > 1) {
      w.admin({ v: 1, type: 'pipeline.rollback', name, to: this.prng.range(1, p.version - 1), at });
    } else if (roll < 9) {
      w.admin({ v: 1, type: 'pipeline.delete', name, at });
    }
  }

  private kill(): void {
    const live = this.live();
    if (live.length <= 1) return;
    const node = this.prng.pick(live);
    this.world.kill(node);
    this.world.queue.schedule(this.prng.range(200, 4000), () => {
      if (!node.alive) this.world.start(node);
    });
  }

  private restartOne(): void {
    const dead = [...this.world.nodes.values()].filter((n) => !n.alive);
    if (dead.length > 0) this.world.start(this.prng.pick(dead));
  }

  private cut(): void {
    const w = this.world;
    const live = this.live();
    if (live.length < 2) return;
    const node = this.prng.pick(live);
    const others = [...w.nodes.keys()].filter((id) => id !== node.id);
    const oneWay = this.prng.chance(0.3);
    const links = others.flatMap((o) => (oneWay ? (this.prng.chance(0.5) ? [`${node.id}>${o}`] : [`${o}>${node.id}`]) : [`${node.id}>${o}`, `${o}>${node.id}`]));
    for (const l of links) w.cuts.add(l);
    w.note(`cut ${node.id}${oneWay ? ' one way' : ''}`);
    w.queue.schedule(this.prng.range(300, 5000), () => {
      for (const l of links) w.cuts.delete(l);
      w.note(`uncut ${node.id}`);
    });
  }

  private pause(): void {
    const live = this.live();
    if (live.length === 0) return;
    const node = this.prng.pick(live);
    const ms = this.prng.chance(0.5) ? this.prng.range(50, 500) : this.prng.range(500, 4000);
    node.clock.pause(ms);
    this.world.note(`${node.id} paused ${ms} ms`);
  }

  /** Oscillators within ±20 %: the lease (half the failover timeout) has room for far more. */
  private drift(): void {
    const node = this.prng.pick([...this.world.nodes.values()]);
    const rate = 0.8 + this.prng.next() * 0.4;
    node.clock.setRate(rate);
    this.world.note(`${node.id} clock rate ${rate.toFixed(3)}`);
  }

  private transfer(): void {
    const w = this.world;
    const candidates = this.live().filter((n) => n.voter && n.id !== w.leader && w.hasMajority(n.id));
    if (candidates.length > 0) w.transferTo(this.prng.pick(candidates));
  }

  private join(): void {
    const w = this.world;
    if (this.nextNode > this.maxNodes) return;
    const id = `n${this.nextNode}`;
    if (!w.admin(nodeUpsert(id, false, zoneOf(this.nextNode)))) return;
    this.nextNode++;
    w.start(w.addNode(id, false));
  }

  private leave(): void {
    const live = this.live().filter((n) => n.id !== this.world.leader);
    if (live.length === 0) return;
    const node = this.prng.pick(live);
    this.world.leave(node);
    this.world.queue.schedule(this.prng.range(1000, 5000), () => {
      if (!node.alive) this.world.start(node);
    });
  }

  private loss(): void {
    const w = this.world;
    w.net.loss = this.prng.chance(0.5) ? 0 : this.prng.next() * 0.05;
    w.note(`loss ${w.net.loss.toFixed(3)}`);
  }
}
