/**
 * Helpers for hand-written scenarios: a quiet cluster (no nemesis, no clients) that a test drives
 * step by step, cutting links and crashing nodes at chosen moments.
 */
import type { NodeId } from '../../src/raft/core/types.js';
import { Cluster, DEFAULT_TUNING } from './cluster.js';
import { encodeCommand } from './kv-store.js';
import type { NodeTuning, SimNode } from './sim-node.js';

export function quietCluster(nodes: number, seed = 7, tuning: Partial<NodeTuning> = {}): Cluster {
  const c = new Cluster({
    seed,
    nodes,
    tuning: { ...DEFAULT_TUNING, ...tuning },
    tickMs: 10,
    tearProbability: 0,
  });
  c.startFounders();
  return c;
}

/** Runs until `cond` holds; returns whether it did within `maxMs` simulated ms. */
export async function runUntil(c: Cluster, cond: () => boolean, maxMs: number): Promise<boolean> {
  await c.runUntil(c.queue.now + maxMs, cond);
  return cond();
}

export function runFor(c: Cluster, ms: number): Promise<void> {
  return c.runUntil(c.queue.now + ms);
}

export async function waitForLeader(c: Cluster, maxMs = 2000, among?: readonly NodeId[]): Promise<SimNode> {
  const pick = (): SimNode | undefined => {
    const l = c.leader();
    return l !== undefined && (among === undefined || among.includes(l.id)) ? l : undefined;
  };
  if (!(await runUntil(c, () => pick() !== undefined, maxMs))) throw new Error(`no leader within ${maxMs}ms`);
  return pick()!;
}

let opCounter = 0;

/** Proposes a put on `node`; returns the proposal's index and a flag set once it is applied there. */
export function propose(node: SimNode, key: string, value: string): { index: number; applied: () => boolean } {
  let done = false;
  const id = `scenario-${opCounter++}`;
  const raft = node.raft;
  if (raft === null) throw new Error(`${node.id} is down`);
  const pending = raft.propose(encodeCommand({ id, op: 'put', key, value }));
  pending.then(
    () => (done = true),
    () => undefined,
  );
  // The core appends a proposal at once: the node's last index is its index.
  return { index: raft.status().lastIndex, applied: () => done };
}

/** Writes through whichever node leads, retrying until one write is applied; returns whether it was within `maxMs`. */
export async function writeEventually(c: Cluster, key: string, value: string, maxMs: number): Promise<boolean> {
  const deadline = c.queue.now + maxMs;
  while (c.queue.now < deadline) {
    const leader = c.leader();
    if (leader === undefined) {
      await runFor(c, 10);
      continue;
    }
    const r = propose(leader, key, value);
    if (await runUntil(c, r.applied, Math.min(500, deadline - c.queue.now))) return true;
  }
  return false;
}

export function others(c: Cluster, id: NodeId): NodeId[] {
  return [...c.nodes.keys()].filter((x) => x !== id);
}
