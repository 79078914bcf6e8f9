import { describe, expect, it } from 'vitest';
import { RaftCore } from '../../../src/raft/core/raft.js';
import { EMPTY_HARD_STATE } from '../../../src/raft/core/types.js';
import { MemoryLog } from './memory-log.js';
import { Cluster, bytes, seeded } from './harness.js';

describe('elections', () => {
  it('elects exactly one leader and every node learns it', () => {
    const c = new Cluster(['a', 'b', 'c']);
    const leader = c.electLeader();
    c.tick(5);
    const statuses = [...c.nodes.values()].map((n) => n.core.status());
    expect(statuses.filter((s) => s.role === 'leader').map((s) => s.id)).toEqual([leader]);
    for (const s of statuses) expect(s.leader).toBe(leader);
    expect(new Set(statuses.map((s) => s.term)).size).toBe(1);
  });

  it('commits a no-op entry at the start of the new term', () => {
    const c = new Cluster(['a', 'b', 'c']);
    const leader = c.electLeader();
    c.tick(2);
    const s = c.node(leader).core.status();
    // Index 1 is the founding membership; index 2 the leader's no-op, committed everywhere.
    expect(s.commit).toBe(2);
    expect(c.node(leader).log.entries(2, 3)[0]).toMatchObject({ term: s.term, data: new Uint8Array(0) });
    for (const n of c.nodes.values()) expect(n.core.status().commit).toBe(2);
  });

  it('a single-voter cluster elects itself and commits only after its own append is durable', () => {
    const log = new MemoryLog();
    const core = new RaftCore(
      { id: 'solo', electionTick: 10, heartbeatTick: 1, random: seeded(3) },
      { hardState: EMPTY_HARD_STATE, membership: { voters: [{ id: 'solo', address: '' }], learners: [] }, log },
    );
    let rd = core.ready();
    log.append(rd.entries);
    core.advance(rd);
    for (let i = 0; i < 20 && core.status().role !== 'leader'; i++) core.tick();
    expect(core.status().role).toBe('leader');
    const r = core.propose(bytes('x'));
    expect(r).toMatchObject({ ok: true, index: 3 });
    rd = core.ready();
    expect(rd.entries.map((e) => e.index)).toEqual([2, 3]);
    expect(rd.committedEntries).toEqual([]);
    log.append(rd.entries);
    core.advance(rd);
    rd = core.ready();
    expect(rd.hardState?.commit).toBe(3);
    expect(rd.committedEntries.map((e) => e.index)).toEqual([2, 3]);
    core.advance(rd);
  });

  it('a vote is persisted in the same Ready as the response that grants it', () => {
    const c = new Cluster(['a', 'b', 'c'], { preVote: false });
    c.electLeader();
    const grants = c.sent.filter((m) => m.type === 'voteResponse' && !m.reject);
    expect(grants.length).toBeGreaterThan(0);
    for (const g of grants) expect(c.node(g.from).hard.term).toBeGreaterThanOrEqual(g.term);
  });

  it('refuses proposals on a follower and names the leader', () => {
    const c = new Cluster(['a', 'b', 'c']);
    const leader = c.electLeader();
    const follower = ['a', 'b', 'c'].find((id) => id !== leader)!;
    expect(c.node(follower).core.propose(bytes('x'))).toEqual({ ok: false, reason: 'notLeader', leader });
  });

  it('randomized timeouts stay within [electionTick, 2·electionTick)', () => {
    const c = new Cluster(['a', 'b', 'c']);
    // Nobody campaigns before electionTick ticks; someone has campaigned by 2·electionTick.
    c.tick(9);
    expect(c.sent.filter((m) => m.type === 'preVote')).toEqual([]);
    c.tick(11);
    expect(c.sent.some((m) => m.type === 'preVote')).toBe(true);
  });
});

describe('pre-vote and check-quorum', () => {
  it('a partitioned node does not raise its term, and rejoining does not depose the leader', () => {
    const c = new Cluster(['a', 'b', 'c']);
    const leader = c.electLeader();
    const term = c.node(leader).core.status().term;
    const loner = ['a', 'b', 'c'].find((id) => id !== leader)!;
    c.isolate(loner);
    c.tick(100);
    expect(c.node(loner).core.status().term).toBe(term);
    expect(c.node(loner).core.status().role).toBe('preCandidate');
    c.heal();
    c.tick(20);
    expect(c.leader()).toBe(leader);
    expect(c.node(leader).core.status().term).toBe(term);
    expect(c.node(loner).core.status()).toMatchObject({ role: 'follower', leader, term });
  });

  it('without pre-vote the same partition deposes the leader (the scenario pre-vote prevents)', () => {
    const c = new Cluster(['a', 'b', 'c'], { preVote: false, checkQuorum: false });
    const leader = c.electLeader();
    const term = c.node(leader).core.status().term;
    const loner = ['a', 'b', 'c'].find((id) => id !== leader)!;
    c.isolate(loner);
    c.tick(100);
    expect(c.node(loner).core.status().term).toBeGreaterThan(term);
    c.heal();
    c.tick(40);
    expect(c.node(c.electLeader()).core.status().term).toBeGreaterThan(term);
  });

  it('a node that raised its term while cut off makes the stale leader step down, and the cluster recovers', () => {
    const c = new Cluster(['a', 'b', 'c']);
    const leader = c.electLeader();
    const loner = ['a', 'b', 'c'].find((id) => id !== leader)!;
    const others = ['a', 'b', 'c'].filter((id) => id !== loner);
    // Give the loner a higher term directly, as a crash-restart with a newer hard state would.
    c.isolate(loner);
    const n = c.node(loner);
    n.hard = { ...n.hard, term: n.hard.term + 5, vote: null };
    c.restart(loner);
    c.heal();
    c.tick(60);
    const now = c.electLeader();
    expect(c.node(now).core.status().term).toBeGreaterThanOrEqual(n.hard.term);
    expect(others.includes(now) || now === loner).toBe(true);
    expect(c.node(now).core.propose(bytes('after'))).toMatchObject({ ok: true });
    c.tick(3);
    for (const id of ['a', 'b', 'c']) expect(c.appliedData(id)).toEqual(['after']);
  });

  it('a leader that cannot hear a quorum steps down within an election timeout', () => {
    const c = new Cluster(['a', 'b', 'c']);
    const leader = c.electLeader();
    c.isolate(leader);
    c.tick(10, [leader]);
    expect(c.node(leader).core.status().role).toBe('leader');
    c.tick(11, [leader]);
    expect(c.node(leader).core.status().role).toBe('follower');
  });

  it('followers hearing a live leader ignore a higher-term vote request', () => {
    const c = new Cluster(['a', 'b', 'c'], { preVote: false });
    const leader = c.electLeader();
    const term = c.node(leader).core.status().term;
    const [f1, f2] = ['a', 'b', 'c'].filter((id) => id !== leader) as [string, string];
    c.node(f1).core.step({ type: 'vote', from: f2, to: f1, term: term + 1, lastIndex: 100, lastTerm: term, transfer: false });
    c.settle();
    expect(c.node(f1).core.status()).toMatchObject({ term, vote: c.node(f1).core.status().vote, leader });
    expect(c.sent.filter((m) => m.type === 'voteResponse' && m.from === f1 && m.term > term)).toEqual([]);
  });
});
