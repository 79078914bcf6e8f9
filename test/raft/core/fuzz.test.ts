import { describe, expect, it } from 'vitest';
import type { Message, NodeId } from '../../../src/raft/core/types.js';
import { Cluster, bytes, seeded } from './harness.js';

/**
 * Randomized runs (fixed seeds): loss, duplication, reordering, partitions, restarts, stalled nodes
 * (no ticks while time passes), compaction, transfers, membership changes and reads (lease reads in
 * half the seeds), with Raft's safety properties checked after every tick.
 */
function run(seed: number): void {
  const rnd = seeded(seed);
  const ids: NodeId[] = ['a', 'b', 'c', 'd', 'e'].slice(0, seed % 2 === 0 ? 3 : 5);
  const c = new Cluster(ids, { maxEntriesPerMsg: 3, maxInflight: 4, leaseReads: seed % 4 < 2 });
  /** Reads in flight: who asked, and the highest commit index anywhere when it was asked (the answer may not be older). */
  const reads = new Map<string, { node: NodeId; floor: number }>();
  const stalled = new Set<NodeId>();
  c.reorder = rnd;
  const slow = new Set<NodeId>();
  c.slowDisk = (id) => slow.has(id) && rnd() < 0.7;
  const dupes: Message[] = [];
  c.filter = (m) => {
    if (rnd() < 0.05) dupes.push(m);
    return rnd() > 0.1;
  };
  const leadersByTerm = new Map<number, NodeId>();
  let proposed = 0;
  for (let t = 0; t < 400; t++) {
    const r = rnd();
    if (r < 0.03) {
      c.partition(ids[Math.floor(rnd() * ids.length)]!, ids[Math.floor(rnd() * ids.length)]!);
    } else if (r < 0.08) {
      c.heal();
    } else if (r < 0.1) {
      c.restart(ids[Math.floor(rnd() * ids.length)]!);
    } else if (r < 0.11) {
      const id = ids[Math.floor(rnd() * ids.length)]!;
      if (slow.has(id)) slow.delete(id);
      else slow.add(id);
    } else if (r < 0.13) {
      const id = ids[Math.floor(rnd() * ids.length)]!;
      if (c.node(id).core.status().applied > 0) c.compact(id);
    } else if (r < 0.14) {
      const id = ids[Math.floor(rnd() * ids.length)]!;
      if (stalled.has(id)) stalled.delete(id);
      else stalled.add(id);
    }
    if (rnd() < 0.3) {
      const id = ids[Math.floor(rnd() * ids.length)]!;
      const ctx = `${seed}-${t}`;
      const floor = Math.max(...[...c.nodes.values()].map((n) => n.core.status().commit));
      if (c.node(id).core.readIndex(ctx).ok) reads.set(ctx, { node: id, floor });
    }
    const leader = c.leader();
    if (leader !== null) {
      const core = c.node(leader).core;
      if (rnd() < 0.5) core.propose(bytes(`${seed}-${proposed++}`));
      if (rnd() < 0.01) core.transferLeadership();
      if (rnd() < 0.02) {
        const m = core.status().membership;
        const learner = m.learners[0];
        if (learner !== undefined) core.proposeConfChange({ op: 'promote', id: learner.id });
        else if (m.voters.length > 3) core.proposeConfChange({ op: 'remove', id: m.voters.find((v) => v.id !== leader)!.id });
        else {
          const gone = ids.find((id) => !m.voters.some((v) => v.id === id));
          if (gone !== undefined) core.proposeConfChange({ op: 'addLearner', member: { id: gone, address: '' } });
        }
      }
    }
    for (const m of dupes.splice(0)) c.node(m.to).core.step(m);
    c.tick(1, ids.filter((id) => !stalled.has(id)));
    check(c, leadersByTerm);
    checkReads(c, reads);
  }
  // Liveness once the faults stop.
  c.heal();
  c.filter = () => true;
  c.reorder = undefined;
  c.slowDisk = () => false;
  c.tick(60);
  const leader = c.electLeader();
  expect(c.node(leader).core.propose(bytes('final')).ok).toBe(true);
  c.tick(5);
  expect(c.appliedData(leader).at(-1)).toBe('final');
}

/** Linearizable reads: an answer is never older than what was committed anywhere when the read was asked. */
function checkReads(c: Cluster, reads: Map<string, { node: NodeId; floor: number }>): void {
  for (const n of c.nodes.values()) {
    for (const rs of n.readStates.splice(0)) {
      const asked = reads.get(rs.ctx);
      // A duplicated answer comes after the read was served: a driver no longer waits for it (nor do we).
      if (asked === undefined) continue;
      if (asked.node !== n.id) throw new Error(`${n.id} got the answer to a read ${asked.node} asked: ${rs.ctx}`);
      reads.delete(rs.ctx);
      if (rs.index < asked.floor) throw new Error(`stale read ${rs.ctx} on ${n.id}: index ${rs.index}, but ${asked.floor} was committed when it was asked`);
    }
  }
}

/** Plain checks, not expect(): this runs hundreds of thousands of times per seed. */
function check(c: Cluster, leadersByTerm: Map<number, NodeId>): void {
  const nodes = [...c.nodes.values()];
  for (const n of nodes) {
    const s = n.core.status();
    if (s.role !== 'leader') continue;
    const prev = leadersByTerm.get(s.term);
    if (prev !== undefined && prev !== n.id) throw new Error(`two leaders in term ${s.term}: ${prev} and ${n.id}`);
    leadersByTerm.set(s.term, n.id);
  }
  // State machine safety: applied sequences agree index by index.
  const byIndex = new Map<number, string>();
  for (const n of nodes) {
    for (const a of n.applied) {
      const seen = byIndex.get(a.index);
      if (seen !== undefined && seen !== a.data) throw new Error(`index ${a.index} applied as ${seen} and ${a.data}`);
      byIndex.set(a.index, a.data);
    }
  }
  // Log matching on committed prefixes: same index means the same term.
  for (const x of nodes) {
    for (const y of nodes) {
      if (x.id >= y.id) continue;
      const hi = Math.min(x.core.status().commit, y.core.status().commit, x.log.lastIndex(), y.log.lastIndex());
      const lo = Math.max(x.log.firstIndex(), y.log.firstIndex());
      for (let i = lo; i <= hi; i++) {
        if (x.log.term(i) !== y.log.term(i)) throw new Error(`committed entry ${i} differs between ${x.id} and ${y.id}`);
      }
    }
  }
}

describe('randomized fault runs', () => {
  for (let seed = 1; seed <= 20; seed++) {
    it(`seed ${seed} keeps every safety property`, () => run(seed));
  }
});
