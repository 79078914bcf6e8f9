/**
 * One seed end to end: three founding voters (n1, n2, n3) with zone labels, a fault phase of random changes,
 * then everything heals and the cluster has several failover timeouts to settle before the end checks.
 */
import { Prng } from '../sim/prng.js';
import { Nemesis, nodeUpsert, specOf, zoneOf } from './nemesis.js';
import { FAILOVER_TIMEOUT_MS, HEARTBEAT_MS, World } from './world.js';

export const FAULT_MS = 12_000;
export const SETTLE_MS = 5 * FAILOVER_TIMEOUT_MS;
const FOUNDERS = 3;
const MAX_NODES = 5;

export interface RunOptions {
  readonly seed: number;
  readonly echo?: (line: string) => void;
}

export interface RunResult {
  readonly seed: number;
  readonly ok: boolean;
  readonly failure?: string;
  readonly commits: number;
  readonly writes: number;
  readonly overlapsChecked: number;
  readonly leaders: number;
  readonly trace: readonly string[];
}

export async function runSeed(options: RunOptions): Promise<RunResult> {
  const prng = new Prng(options.seed);
  const world = new World(prng.fork(), options.echo);
  const nemesis = new Nemesis(world, prng.fork(), FOUNDERS, MAX_NODES);
  const shape = prng.fork();
  let failure: string | undefined;
  try {
    const founders = Array.from({ length: FOUNDERS }, (_, i) => world.addNode(`n${i + 1}`, true));
    world.transferTo(founders[0]!);
    world.commit({ v: 1, type: 'cluster.init', id: `sim-${options.seed}`, at: 0 });
    founders.forEach((n, i) => world.commit(nodeUpsert(n.id, true, zoneOf(i + 1))));
    for (const n of founders) world.start(n);
    world.admin({ v: 1, type: 'pipeline.create', name: 'orders', spec: specOf('orders', shape.range(1, 4)), desired: 'running', at: 0 });

    const heartbeat = (): void => {
      world.heartbeat();
      world.queue.schedule(HEARTBEAT_MS, heartbeat);
    };
    world.queue.schedule(0, heartbeat);
    const chaos = (): void => {
      if (world.queue.now >= FAULT_MS) return;
      nemesis.step();
      world.queue.schedule(shape.range(50, 700), chaos);
    };
    world.queue.schedule(shape.range(200, 1500), chaos);
    world.queue.schedule(FAULT_MS, () => nemesis.heal());

    await world.runUntil(FAULT_MS + SETTLE_MS);
    world.invariants.checkEnd();
    await world.runUntil(world.queue.now);
  } catch (error) {
    failure = error instanceof Error ? error.message : String(error);
  } finally {
    for (const node of world.nodes.values()) if (node.alive) world.kill(node);
  }
  return {
    seed: options.seed,
    ok: failure === undefined,
    ...(failure === undefined ? {} : { failure }),
    commits: world.log.length,
    writes: world.invariants.writes,
    overlapsChecked: world.invariants.overlapsChecked,
    leaders: world.term - 1,
    trace: [...world.trace],
  };
}
