import { describe, expect, it } from 'vitest';
import { Cluster } from './harness.js';

describe('campaigning on demand (hup)', () => {
  it('a fresh cluster elects the node that campaigns without waiting for a timeout', () => {
    const c = new Cluster(['a', 'b', 'c']);
    expect(c.node('a').core.hup()).toBe(true);
    c.settle();
    expect(c.leader()).toBe('a');
    for (const n of c.nodes.values()) expect(n.core.status().leader).toBe('a');
  });

  it('a follower that campaigns while a leader is live changes neither leader nor term (pre-vote)', () => {
    const c = new Cluster(['a', 'b', 'c']);
    expect(c.node('a').core.hup()).toBe(true);
    c.settle();
    c.tick(2);
    const term = c.node('a').core.status().term;
    expect(c.node('b').core.hup()).toBe(true);
    c.settle();
    c.tick(2);
    expect(c.leader()).toBe('a');
    for (const n of c.nodes.values()) expect(n.core.status().term).toBe(term);
  });

  it('a leader or a learner does not campaign', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.node('a').core.hup();
    c.settle();
    expect(c.node('a').core.hup()).toBe(false);
    c.node('a').core.proposeConfChange({ op: 'addLearner', member: { id: 'd', address: '' } });
    c.addNode('d');
    c.settle();
    c.tick(3);
    expect(c.node('d').core.status().membership.learners.map((l) => l.id)).toEqual(['d']);
    expect(c.node('d').core.hup()).toBe(false);
    expect(c.leader()).toBe('a');
  });
});
