import { describe, expect, it } from 'vitest';
import { confirmLeadership, SharedConfirmation, type LeaderView } from '../../../src/cluster/tasks/leadership-check.js';

const voters = (...ids: string[]) => ids.map((id) => ({ id, address: `${id}:1` }));

/** Voters that answer by hand: each question waits until the test answers it. */
class Voters {
  readonly asked: { address: string; answer: (term: number) => void; fail: () => void }[] = [];
  askTerm = (address: string): Promise<number> =>
    new Promise((resolve, reject) => this.asked.push({ address, answer: resolve, fail: () => reject(new Error('unreachable')) }));
  at(address: string) {
    return this.asked.find((q) => q.address === address)!;
  }
}

function outcome(p: Promise<unknown>): { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } {
  const o: { state: 'pending' | 'resolved' | 'rejected'; error?: unknown } = { state: 'pending' };
  p.then(
    () => (o.state = 'resolved'),
    (error: unknown) => Object.assign(o, { state: 'rejected', error }),
  );
  return o;
}

const tick = () => new Promise((r) => setImmediate(r));

describe('confirmLeadership', () => {
  it('is confirmed once a majority of the voters, itself included, answers with its term', async () => {
    const v = new Voters();
    const view: LeaderView = { role: 'leader', term: 4, voters: voters('n1', 'n2', 'n3') };
    const o = outcome(confirmLeadership({ self: 'n1', raft: () => view, askTerm: v.askTerm, timeoutMs: 1000 }));
    await tick();
    expect(v.asked.map((q) => q.address)).toEqual(['n2:1', 'n3:1']);
    expect(o.state).toBe('pending');
    v.at('n3:1').answer(4);
    await tick();
    expect(o.state).toBe('resolved');
  });

  it('is refused when a majority has moved to a later term or cannot be reached', async () => {
    const v = new Voters();
    const view: LeaderView = { role: 'leader', term: 4, voters: voters('n1', 'n2', 'n3') };
    const o = outcome(confirmLeadership({ self: 'n1', raft: () => view, askTerm: v.askTerm, timeoutMs: 1000 }));
    v.at('n2:1').answer(5);
    await tick();
    expect(o.state).toBe('pending');
    v.at('n3:1').fail();
    await tick();
    expect(o.state).toBe('rejected');
    expect((o.error as { code?: string }).code).toBe('NOT_LEADER');
  });

  it('proves nothing for a term this node left while it asked', async () => {
    const v = new Voters();
    let view: LeaderView = { role: 'leader', term: 4, voters: voters('n1', 'n2', 'n3') };
    const o = outcome(confirmLeadership({ self: 'n1', raft: () => view, askTerm: v.askTerm, timeoutMs: 1000 }));
    view = { ...view, role: 'follower', term: 5 };
    v.at('n2:1').answer(4);
    await tick();
    expect(o.state).toBe('rejected');
  });

  it('a follower, or a leader removed from the voters with no majority answering, is refused', async () => {
    const v = new Voters();
    const follower = outcome(confirmLeadership({ self: 'n1', raft: () => ({ role: 'follower', term: 4, voters: voters('n1') }), askTerm: v.askTerm, timeoutMs: 1000 }));
    const removed = outcome(confirmLeadership({ self: 'n1', raft: () => ({ role: 'leader', term: 4, voters: voters('n2', 'n3') }), askTerm: v.askTerm, timeoutMs: 1000 }));
    v.at('n2:1').answer(4);
    await tick();
    expect(follower.state).toBe('rejected');
    expect(removed.state).toBe('pending');
    v.at('n3:1').answer(4);
    await tick();
    expect(removed.state).toBe('resolved');
  });

  it('a single voter confirms itself at once', async () => {
    const v = new Voters();
    const o = outcome(confirmLeadership({ self: 'n1', raft: () => ({ role: 'leader', term: 1, voters: voters('n1') }), askTerm: v.askTerm, timeoutMs: 1000 }));
    await tick();
    expect(o.state).toBe('resolved');
    expect(v.asked).toEqual([]);
  });
});

describe('SharedConfirmation', () => {
  /** Confirmations the test ends by hand, in the order they started. */
  function manual() {
    const started: { resolve: () => void; reject: (e: Error) => void }[] = [];
    const confirm = () => new Promise<void>((resolve, reject) => started.push({ resolve, reject }));
    return { started, shared: new SharedConfirmation(confirm) };
  }

  it('gives every caller waiting the same confirmation: many renewals, at most two checks', async () => {
    const { started, shared } = manual();
    const first = outcome(shared.confirmed());
    await tick();
    const later = Array.from({ length: 50 }, () => outcome(shared.confirmed()));
    await tick();
    expect(started).toHaveLength(1);
    started[0]!.resolve();
    await tick();
    expect(first.state).toBe('resolved');
    // The 50 came while the first check was on its way: it started before them, so it answers none of them.
    expect(later.every((o) => o.state === 'pending')).toBe(true);
    expect(started).toHaveLength(2);
    started[1]!.resolve();
    await tick();
    expect(later.every((o) => o.state === 'resolved')).toBe(true);
    expect(started).toHaveLength(2);
  });

  it('a failed check fails its callers only; the next callers get a new one', async () => {
    const { started, shared } = manual();
    const first = outcome(shared.confirmed());
    await tick();
    const second = outcome(shared.confirmed());
    started[0]!.reject(new Error('deposed'));
    await tick();
    expect(first.state).toBe('rejected');
    expect(second.state).toBe('pending');
    started[1]!.resolve();
    await tick();
    expect(second.state).toBe('resolved');
  });
});
