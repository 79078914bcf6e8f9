import { describe, expect, it } from 'vitest';
import { applyConfPayload, decodeConfPayload, encodeConfPayload } from '../../../src/raft/core/membership.js';
import type { ConfPayload, Membership } from '../../../src/raft/core/types.js';
import { Cluster, bytes } from './harness.js';

const ids = (m: Membership): { voters: string[]; learners: string[] } => ({
  voters: m.voters.map((v) => v.id).sort(),
  learners: m.learners.map((l) => l.id).sort(),
});

/** A 3-voter cluster led by a, with d started as a joiner (empty membership). */
function withJoiner(): Cluster {
  const c = new Cluster(['a', 'b', 'c']);
  c.campaign('a');
  for (let i = 0; i < 5; i++) c.node('a').core.propose(bytes(`v${i}`));
  c.tick(2);
  c.addNode('d');
  return c;
}

describe('membership', () => {
  it('conf payloads round-trip through their encoding', () => {
    const payloads: ConfPayload[] = [
      { op: 'addLearner', member: { id: 'x', address: 'h:1' } },
      { op: 'promote', id: 'x' },
      { op: 'remove', id: 'x' },
      { op: 'bootstrap', membership: { voters: [{ id: 'a', address: 'h:2' }], learners: [] } },
    ];
    for (const p of payloads) expect(decodeConfPayload(encodeConfPayload(p))).toEqual(p);
  });

  it('an invalid change applies as a no-op so every node computes the same configuration', () => {
    const m: Membership = { voters: [{ id: 'a', address: '' }], learners: [] };
    expect(applyConfPayload(m, { op: 'promote', id: 'zz' })).toBe(m);
    expect(applyConfPayload(m, { op: 'remove', id: 'a' })).toBe(m);
  });

  it('a learner added to the cluster catches up from the log but does not count for quorum', () => {
    const c = withJoiner();
    expect(c.node('a').core.proposeConfChange({ op: 'addLearner', member: { id: 'd', address: 'd:7000' } }).ok).toBe(true);
    c.tick(4);
    for (const id of ['a', 'b', 'c', 'd']) {
      expect(ids(c.node(id).core.status().membership)).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
    }
    expect(c.appliedData('d')).toEqual(c.appliedData('a'));
    // With b and c cut off, a and the learner d are no quorum: nothing commits.
    c.partition('a', 'b');
    c.partition('a', 'c');
    const commit = c.node('a').core.status().commit;
    c.node('a').core.propose(bytes('no-quorum'));
    c.tick(3, ['a', 'd']);
    expect(c.node('a').core.status().commit).toBe(commit);
    expect(c.sent.some((m) => m.from === 'd' && (m.type === 'vote' || m.type === 'preVote'))).toBe(false);
  });

  it('a learner never campaigns, however long it goes without a leader', () => {
    const c = withJoiner();
    c.node('a').core.proposeConfChange({ op: 'addLearner', member: { id: 'd', address: 'd:7000' } });
    c.tick(4);
    c.isolate('d');
    c.tick(100, ['d']);
    expect(c.node('d').core.status().role).toBe('follower');
    expect(c.sent.some((m) => m.from === 'd' && (m.type === 'vote' || m.type === 'preVote'))).toBe(false);
  });

  it('a promoted learner becomes a voter on every node', () => {
    const c = withJoiner();
    c.node('a').core.proposeConfChange({ op: 'addLearner', member: { id: 'd', address: 'd:7000' } });
    c.tick(4);
    expect(c.node('a').core.proposeConfChange({ op: 'promote', id: 'd' }).ok).toBe(true);
    c.tick(4);
    for (const id of ['a', 'b', 'c', 'd']) {
      expect(ids(c.node(id).core.status().membership)).toEqual({ voters: ['a', 'b', 'c', 'd'], learners: [] });
    }
    // Four voters need three: a and d alone cannot commit, a, b and d can.
    c.partition('a', 'c');
    c.partition('a', 'b');
    const commit = c.node('a').core.status().commit;
    c.node('a').core.propose(bytes('x'));
    c.tick(2, ['a', 'd']);
    expect(c.node('a').core.status().commit).toBe(commit);
    c.heal();
    c.partition('a', 'c');
    c.tick(2, ['a', 'b', 'd']);
    expect(c.node('a').core.status().commit).toBeGreaterThan(commit);
  });

  it('refuses a second change while one is uncommitted, and invalid changes outright', () => {
    const c = withJoiner();
    const a = c.node('a').core;
    expect(a.proposeConfChange({ op: 'addLearner', member: { id: 'd', address: 'd:7000' } }).ok).toBe(true);
    expect(a.proposeConfChange({ op: 'remove', id: 'b' })).toEqual({
      ok: false,
      reason: 'dropped',
      leader: 'a',
      detail: 'a membership change is still uncommitted',
    });
    c.tick(4);
    expect(a.proposeConfChange({ op: 'promote', id: 'b' })).toMatchObject({ ok: false, reason: 'invalid' });
    expect(a.proposeConfChange({ op: 'addLearner', member: { id: 'b', address: '' } })).toMatchObject({ ok: false, reason: 'invalid' });
    expect(a.proposeConfChange({ op: 'promote', id: 'd' }).ok).toBe(true);
  });

  it('a new leader accepts no change until an entry of its own term commits', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    c.isolate('a');
    c.settle();
    // b wins c's vote, but its no-op never reaches c, so it cannot commit.
    c.filter = (m) => !(m.type === 'append' && m.from === 'b');
    c.campaign('b');
    expect(c.node('b').core.status().role).toBe('leader');
    expect(c.node('b').core.proposeConfChange({ op: 'remove', id: 'a' })).toMatchObject({ ok: false, reason: 'dropped' });
    c.filter = () => true;
    c.tick(2, ['b', 'c']);
    expect(c.node('b').core.proposeConfChange({ op: 'remove', id: 'a' }).ok).toBe(true);
  });

  it('a removed server cannot disrupt the cluster', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    c.tick(2);
    expect(c.node('a').core.proposeConfChange({ op: 'remove', id: 'c' }).ok).toBe(true);
    c.tick(4);
    expect(ids(c.node('a').core.status().membership)).toEqual({ voters: ['a', 'b'], learners: [] });
    const term = c.node('a').core.status().term;
    // c may not know it was removed; it keeps campaigning, with or without pre-vote.
    c.restart('c');
    c.tick(60);
    expect(c.leader()).toBe('a');
    expect(c.node('a').core.status().term).toBe(term);
    expect(c.node('b').core.status().term).toBe(term);
    expect(c.node('a').core.propose(bytes('still-works')).ok).toBe(true);
    c.tick(2);
    expect(c.appliedData('b')).toContain('still-works');
  });

  it('a removed server without pre-vote still cannot raise the others’ term', () => {
    const c = new Cluster(['a', 'b', 'c'], { preVote: false });
    c.campaign('a');
    c.tick(2);
    c.node('a').core.proposeConfChange({ op: 'remove', id: 'c' });
    c.tick(4);
    const term = c.node('a').core.status().term;
    c.isolate('c');
    c.tick(30, ['c']);
    expect(c.node('c').core.status().term).toBeGreaterThan(term);
    c.heal();
    c.tick(30);
    expect(c.leader()).toBe('a');
    expect(c.node('b').core.status().term).toBe(term);
  });

  it('a leader that removes itself steps down once the change commits, and another leader takes over', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    c.tick(2);
    expect(c.node('a').core.proposeConfChange({ op: 'remove', id: 'a' }).ok).toBe(true);
    c.settle();
    expect(c.node('a').core.status().role).toBe('follower');
    c.tick(30);
    const leader = c.electLeader();
    expect(['b', 'c']).toContain(leader);
    expect(ids(c.node(leader).core.status().membership)).toEqual({ voters: ['b', 'c'], learners: [] });
    c.node(leader).core.propose(bytes('without-a'));
    c.tick(2);
    expect(c.appliedData(leader === 'b' ? 'c' : 'b')).toContain('without-a');
  });

  it('a leader that removes itself from two voters leads until the survivor knows, so the survivor carries on alone', () => {
    const c = new Cluster(['a', 'b']);
    c.campaign('a');
    c.tick(2);
    // a is shut down as soon as it stops leading: nothing it sends after that arrives, nothing reaches it.
    const gone = (): boolean => c.node('a').core.status().role !== 'leader';
    c.filter = (m) => !((m.from === 'a' || m.to === 'a') && gone());
    expect(c.node('a').core.proposeConfChange({ op: 'remove', id: 'a' }).ok).toBe(true);
    c.settle();
    expect(c.node('a').core.status().role).toBe('follower');
    c.tick(40, ['b']);
    expect(c.node('b').core.status()).toMatchObject({ role: 'leader' });
    expect(ids(c.node('b').core.status().membership)).toEqual({ voters: ['b'], learners: [] });
    expect(c.node('b').core.propose(bytes('alone')).ok).toBe(true);
    c.tick(1, ['b']);
    expect(c.appliedData('b')).toContain('alone');
  });

  it('a removed leader takes no proposal while it hands over', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    c.tick(2);
    // No heartbeat answers: a cannot learn that a voter knows the removal committed.
    c.filter = (m) => m.type !== 'heartbeatResponse';
    c.node('a').core.proposeConfChange({ op: 'remove', id: 'a' });
    c.settle();
    expect(c.node('a').core.status().role).toBe('leader');
    expect(ids(c.node('a').core.status().membership).voters).toEqual(['b', 'c']);
    expect(c.node('a').core.propose(bytes('late'))).toMatchObject({ ok: false, reason: 'dropped' });
    c.filter = () => true;
    c.tick(2);
    expect(c.node('a').core.status().role).toBe('follower');
  });

  it('a joiner that missed the log after compaction gets the membership through the snapshot', () => {
    const c = withJoiner();
    c.compact('a');
    c.node('a').core.proposeConfChange({ op: 'addLearner', member: { id: 'd', address: 'd:7000' } });
    c.tick(4);
    expect(c.sent.some((m) => m.type === 'snapshot' && m.to === 'd')).toBe(true);
    expect(ids(c.node('d').core.status().membership)).toEqual({ voters: ['a', 'b', 'c'], learners: ['d'] });
    expect(c.appliedData('d')).toEqual(c.appliedData('a'));
  });
});
