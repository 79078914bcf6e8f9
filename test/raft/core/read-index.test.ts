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
    c.tick(2);
    const heartbeats = c.sent.filter((m) => m.type === 'heartbeat').length;
    c.node('a').core.readIndex('lease');
    c.settle();
    expect(c.node('a').readStates).toEqual([{ ctx: 'lease', index: c.node('a').core.status().commit }]);
    expect(c.sent.filter((m) => m.type === 'heartbeat').length).toBe(heartbeats);
  });

  it('a stalled leader cut off from the quorum serves no lease read once a new leader may exist', () => {
    const c = new Cluster(['a', 'b', 'c'], { leaseReads: true });
    c.campaign('a');
    c.tick(2);
    c.node('a').core.readIndex('fresh');
    c.settle();
    expect(c.node('a').readStates.map((r) => r.ctx)).toEqual(['fresh']);
    // a stalls (no tick runs, so its check-quorum never fires) while time passes and b, c move on.
    c.isolate('a');
    let leader: string | null = null;
    for (let i = 0; i < 100 && leader === null; i++) {
      c.tick(1, ['b', 'c']);
      leader = ['b', 'c'].find((id) => c.node(id).core.status().role === 'leader') ?? null;
    }
    expect(leader).not.toBeNull();
    c.node(leader!).core.propose(bytes('written by the new leader'));
    c.tick(2, ['b', 'c']);
    expect(c.appliedData(leader!)).toContain('written by the new leader');
    expect(c.node('a').core.status().role).toBe('leader');
    c.node('a').core.readIndex('stale');
    c.settle();
    expect(c.node('a').readStates.map((r) => r.ctx)).toEqual(['fresh']);
  });

  it('the lease runs out (electionTick - 1) ticks less the drift margin after the confirmed heartbeat was sent', () => {
    const c = new Cluster(['a', 'b', 'c'], { leaseReads: true });
    c.campaign('a');
    c.tick(2);
    // Heartbeats still go out, but no answer comes back: no later round is confirmed.
    c.filter = (m) => m.type !== 'heartbeatResponse';
    const served = (ctx: string): boolean => {
      c.node('a').core.readIndex(ctx);
      c.settle();
      return c.node('a').readStates.some((r) => r.ctx === ctx);
    };
    // The last confirmed round went out at the second tick; the lease is 9 ticks × 0.9² = 7.29 ticks.
    expect(served('within')).toBe(true);
    c.tick(7);
    expect(served('still within')).toBe(true);
    c.tick(1);
    expect(served('expired')).toBe(false);
  });

  it('serves no lease read during a leadership transfer, nor later in that term', () => {
    const c = new Cluster(['a', 'b', 'c'], { leaseReads: true });
    c.campaign('a');
    c.tick(2);
    // TimeoutNow is lost (it could as well arrive late); heartbeat answers are held back while reading.
    c.filter = (m) => m.type !== 'timeoutNow';
    expect(c.node('a').core.transferLeadership('b')).toMatchObject({ ok: true });
    const withoutRound = (ctx: string): boolean => {
      const filter = c.filter;
      c.filter = (m) => filter(m) && m.type !== 'heartbeatResponse';
      c.node('a').core.readIndex(ctx);
      c.settle();
      c.filter = filter;
      return c.node('a').readStates.some((r) => r.ctx === ctx);
    };
    expect(withoutRound('during')).toBe(false);
    // The transfer is abandoned after an election timeout; a still leads, in the same term.
    const term = c.node('a').core.status().term;
    c.tick(12);
    expect(c.node('a').core.status()).toMatchObject({ role: 'leader', term, leadTransferee: null });
    expect(withoutRound('after')).toBe(false);
    // Both are answered by an ordinary heartbeat round.
    c.tick(2);
    expect(c.node('a').readStates.map((r) => r.ctx)).toEqual(['during', 'after']);
  });

  it('a voter that restarts ignores votes for an election timeout: it may have echoed a lease heartbeat', () => {
    const c = new Cluster(['a', 'b', 'c'], { leaseReads: true });
    c.campaign('a');
    c.tick(2);
    c.restart('b');
    const s = c.node('c').core.status();
    c.node('b').core.step({ type: 'preVote', from: 'c', to: 'b', term: s.term + 1, lastIndex: s.lastIndex, lastTerm: s.term, transfer: false });
    c.settle();
    expect(c.sent.some((m) => m.type === 'preVoteResponse' && m.from === 'b' && !m.reject)).toBe(false);
  });

  it('leaseReads without checkQuorum is rejected at construction', () => {
    expect(() => new Cluster(['a'], { leaseReads: true, checkQuorum: false })).toThrow(/leaseReads requires checkQuorum/);
  });

  it('leaseReads without a clock is rejected at construction', () => {
    expect(() => new Cluster(['a'], { leaseReads: true, clock: undefined })).toThrow(/leaseReads requires a clock/);
  });
});
