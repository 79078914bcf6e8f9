import { describe, expect, it } from 'vitest';
import { Cluster, bytes } from './harness.js';

describe('leadership transfer', () => {
  it('hands leadership to the named voter in the next term', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    const term = c.node('a').core.status().term;
    expect(c.node('a').core.transferLeadership('c')).toEqual({ ok: true, to: 'c' });
    c.settle();
    expect(c.leader()).toBe('c');
    expect(c.node('c').core.status().term).toBe(term + 1);
    expect(c.node('a').core.status()).toMatchObject({ role: 'follower', leader: 'c' });
    expect(c.sent.filter((m) => m.type === 'timeoutNow').map((m) => m.to)).toEqual(['c']);
  });

  it('catches the target up before sending TimeoutNow', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    c.isolate('c');
    for (let i = 0; i < 5; i++) c.node('a').core.propose(bytes(`v${i}`));
    c.settle();
    c.heal();
    expect(c.node('a').core.transferLeadership('c').ok).toBe(true);
    c.settle();
    expect(c.leader()).toBe('c');
    expect(c.node('c').log.lastIndex()).toBeGreaterThanOrEqual(c.node('a').log.lastIndex());
  });

  it('picks the most up-to-date voter when no target is named', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    c.isolate('b');
    c.node('a').core.propose(bytes('x'));
    c.settle();
    c.heal();
    expect(c.node('a').core.transferLeadership()).toEqual({ ok: true, to: 'c' });
  });

  it('refuses proposals during a transfer and gives up after an election timeout', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    c.filter = (m) => m.type !== 'timeoutNow';
    const a = c.node('a').core;
    expect(a.transferLeadership('b').ok).toBe(true);
    c.settle();
    expect(a.propose(bytes('x'))).toMatchObject({ ok: false, reason: 'dropped', detail: 'leadership transfer in progress' });
    expect(a.status().leadTransferee).toBe('b');
    c.tick(10, ['a']);
    expect(a.status()).toMatchObject({ role: 'leader', leadTransferee: null });
    expect(a.propose(bytes('x')).ok).toBe(true);
  });

  it('refuses transfers that cannot succeed', () => {
    const c = new Cluster(['a', 'b', 'c']);
    c.campaign('a');
    expect(c.node('a').core.transferLeadership('a')).toMatchObject({ ok: false, reason: 'invalid' });
    expect(c.node('a').core.transferLeadership('zz')).toMatchObject({ ok: false, reason: 'invalid' });
    expect(c.node('b').core.transferLeadership('c')).toEqual({ ok: false, reason: 'notLeader', leader: 'a' });
  });
});
