import { describe, expect, it } from 'vitest';
import { Cluster, bytes } from './harness.js';

/** Well-formed messages that no honest peer sends: the core drops and counts them, and keeps going. */
describe('hostile but well-formed messages', () => {
  it('a heartbeat from a non-member at the leader’s term is dropped; the leader keeps leading', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    const leader = c.node('a').core;
    const term = leader.status().term;
    leader.step({ type: 'heartbeat', from: 'mallory', to: 'a', term, commit: 0, readRound: 0 });
    leader.step({ type: 'append', from: 'b', to: 'a', term, prevIndex: 0, prevTerm: 0, entries: [], commit: 0 });
    expect(leader.status()).toMatchObject({ role: 'leader', term, droppedMessages: 2 });
    leader.propose(bytes('still serving'));
    c.settle();
    expect(c.appliedData('b')).toContain('still serving');
  });

  it('an append from a second “leader” in a term whose leader a follower knows is dropped', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    c.node('a').core.propose(bytes('x'));
    c.settle();
    const follower = c.node('b').core;
    const before = follower.status();
    const forged = { term: before.term, index: before.lastIndex + 1, type: 0 as const, data: bytes('forged') };
    follower.step({
      type: 'append',
      from: 'c',
      to: 'b',
      term: before.term,
      prevIndex: before.lastIndex,
      prevTerm: before.term,
      entries: [forged],
      commit: before.lastIndex + 1,
    });
    expect(follower.status()).toMatchObject({ leader: 'a', lastIndex: before.lastIndex, commit: before.commit, droppedMessages: 1 });
  });

  it('a success answer for an index the leader never had is dropped', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    const leader = c.node('a').core;
    const { term, lastIndex } = leader.status();
    leader.step({ type: 'appendResponse', from: 'b', to: 'a', term, reject: false, index: lastIndex + 1000, hintIndex: 0, hintTerm: 0 });
    const b = leader.status().progress.find((p) => p.id === 'b')!;
    expect(b.match).toBeLessThanOrEqual(lastIndex);
    expect(leader.status().droppedMessages).toBe(1);
    leader.propose(bytes('after'));
    c.settle();
    expect(c.appliedData('b')).toContain('after');
  });

  it('an echo of a ReadIndex round never sent does not confirm a read', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    c.isolate('a');
    const leader = c.node('a').core;
    expect(leader.readIndex('r1')).toEqual({ ok: true });
    leader.step({ type: 'heartbeatResponse', from: 'b', to: 'a', term: leader.status().term, readRound: 99 });
    c.settle();
    expect(c.node('a').readStates).toEqual([]);
    expect(leader.status().droppedMessages).toBe(1);
  });

  it('a read index answer from a member that is not the leader is dropped', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    const follower = c.node('b').core;
    follower.step({ type: 'readIndexResponse', from: 'c', to: 'b', term: follower.status().term, ctx: 'b:1', index: 1 });
    c.settle();
    expect(c.node('b').readStates).toEqual([]);
    expect(follower.status().droppedMessages).toBe(1);
  });

  it('a heartbeat from outside the configuration cannot commit a learner’s unchecked tail', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    const a = c.node('a').core;
    c.addNode('l');
    a.proposeConfChange({ op: 'addLearner', member: { id: 'l', address: 'l:7000' } });
    c.settle();
    // Only the learner hears a's next entry: it stays uncommitted, and may yet be overwritten.
    c.partition('a', 'b');
    c.partition('a', 'c');
    a.propose(bytes('never committed'));
    c.settle();
    const learner = c.node('l').core;
    const { commit, lastIndex, term } = learner.status();
    expect(lastIndex).toBeGreaterThan(commit);
    learner.step({ type: 'heartbeat', from: 'mallory', to: 'l', term: term + 1, commit: lastIndex, readRound: 0 });
    c.settle();
    expect(learner.status()).toMatchObject({ term: term + 1, leader: 'mallory', commit });
  });

  it('a leader message from outside the configuration never raises a voter’s term', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    const { term } = c.node('a').core.status();
    for (const id of ['a', 'b']) {
      const core = c.node(id).core;
      core.step({ type: 'heartbeat', from: 'mallory', to: id, term: 2 ** 40, commit: 0, readRound: 0 });
      core.step({ type: 'append', from: 'mallory', to: id, term: term + 1, prevIndex: 0, prevTerm: 0, entries: [], commit: 0 });
      expect(core.status()).toMatchObject({ term, leader: 'a', droppedMessages: 2 });
    }
  });

  it('a voter that missed a new leader’s arrival still follows it, after learning its term from a peer', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    const core = c.node('c').core;
    const { term } = core.status();
    // d leads at term + 1 in a configuration c has not seen yet: its append alone is dropped…
    core.step({ type: 'append', from: 'd', to: 'c', term: term + 1, prevIndex: 0, prevTerm: 0, entries: [], commit: 0 });
    expect(core.status().term).toBe(term);
    // …but once a member's answer brings c to that term, d's messages are taken.
    core.step({ type: 'preVoteResponse', from: 'b', to: 'c', term: term + 1, reject: true });
    core.step({ type: 'heartbeat', from: 'd', to: 'c', term: term + 1, commit: 0, readRound: 0 });
    expect(core.status()).toMatchObject({ term: term + 1, leader: 'd' });
  });
});
