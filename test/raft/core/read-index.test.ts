import { describe, expect, it } from 'vitest';
import { Cluster, bytes } from './harness.js';

describe('ReadIndex', () => {
  it('the leader answers with its commit index after a quorum confirms its leadership', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    c.node('a').core.propose(bytes('x'));
    c.settle();
    const commit = c.node('a').core.status().commit;
    const heartbeats = c.sent.filter((m) => m.type === 'heartbeat').length;
    expect(c.node('a').core.readIndex('r1')).toEqual({ ok: true });
    expect(c.node('a').readStates).toEqual([]);
    c.settle();
    expect(c.node('a').readStates).toEqual([{ ctx: 'r1', index: commit }]);
    expect(c.sent.filter((m) => m.type === 'heartbeat').length).toBeGreaterThan(heartbeats);
  });

  it('a leader cut off from the quorum never answers', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    c.isolate('a');
    c.node('a').core.readIndex('r1');
    c.tick(30, ['a']);
    expect(c.node('a').readStates).toEqual([]);
  });

  it('one confirmation round serves every read queued before it', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    c.filter = (m) => m.type !== 'heartbeatResponse';
    for (const ctx of ['r1', 'r2', 'r3']) c.node('a').core.readIndex(ctx);
    c.settle();
    expect(c.node('a').readStates).toEqual([]);
    c.filter = () => true;
    c.tick(2);
    expect(c.node('a').readStates.map((r) => r.ctx)).toEqual(['r1', 'r2', 'r3']);
  });

  it('a follower forwards the request to the leader and gets the index back', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    c.node('a').core.propose(bytes('x'));
    c.tick(2);
    expect(c.node('b').core.readIndex('fr')).toEqual({ ok: true });
    c.settle();
    expect(c.node('b').readStates).toEqual([{ ctx: 'fr', index: c.node('a').core.status().commit }]);
    expect(c.node('a').readStates).toEqual([]);
  });

  it('a follower without a known leader refuses', () => {
    const c = new Cluster(['a', 'b', 'c']);
    expect(c.node('b').core.readIndex('x')).toEqual({ ok: false, reason: 'notLeader', leader: null });
  });

  it('a new leader waits for an entry of its own term to commit before answering', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.filter = (m) => m.type !== 'append';
    c.campaign('a');
    expect(c.node('a').core.status().role).toBe('leader');
    c.node('a').core.readIndex('early');
    c.settle();
    expect(c.node('a').readStates).toEqual([]);
    c.filter = () => true;
    c.tick(4);
    const s = c.node('a').core.status();
    expect(c.node('a').readStates).toEqual([{ ctx: 'early', index: s.commit }]);
    expect(c.node('a').log.term(s.commit)).toBe(s.term);
  });

  it('with leaseReads the leader answers at once, without a heartbeat round', () => {
    const c = new Cluster(['a', 'b', 'c'], { leaseReads: true });
    c.campaign('a');
    c.tick(1);
    const heartbeats = c.sent.filter((m) => m.type === 'heartbeat').length;
    c.node('a').core.readIndex('lease');
    c.settle();
    expect(c.node('a').readStates).toEqual([{ ctx: 'lease', index: c.node('a').core.status().commit }]);
    expect(c.sent.filter((m) => m.type === 'heartbeat').length).toBe(heartbeats);
  });

  it('leaseReads without checkQuorum is rejected at construction', () => {
    expect(() => new Cluster(['a'], { leaseReads: true, checkQuorum: false })).toThrow(/leaseReads requires checkQuorum/);
  });
});
