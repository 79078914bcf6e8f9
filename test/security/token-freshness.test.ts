/**
 * A node vouches for tokens only on state confirmed with the leader within the last second
 * (src/security/token-freshness.ts): a follower cut off from the leader would otherwise accept a token revoked since.
 */
import { describe, expect, it } from 'vitest';
import { WireError } from '../../src/core/errors.js';
import { TokenFreshness } from '../../src/security/token-freshness.js';
import { testApi, type TestApi } from '../api/harness.js';

/** A confirm the test settles by hand, and a clock it moves. */
function rig() {
  let clock = 10_000;
  const calls: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const freshness = new TokenFreshness({ now: () => clock, confirm: () => new Promise<void>((resolve, reject) => void calls.push({ resolve, reject })) });
  return { freshness, calls, advance: (ms: number) => void (clock += ms) };
}

const settled = async (p: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> => {
  const state = await Promise.race([p.then(() => 'resolved' as const, () => 'rejected' as const), new Promise<'pending'>((r) => setTimeout(() => r('pending'), 20))]);
  return state;
};

describe('token freshness', () => {
  it('makes the first call wait for a confirmation, then serves calls without asking again for half a second', async () => {
    const { freshness, calls, advance } = rig();
    const first = freshness.check();
    expect(await settled(first)).toBe('pending');
    expect(calls).toHaveLength(1);
    calls[0]!.resolve();
    await first;
    advance(400);
    await freshness.check();
    expect(calls).toHaveLength(1);
  });

  it('renews in the background between half a second and a second, and serves meanwhile', async () => {
    const { freshness, calls, advance } = rig();
    const first = freshness.check();
    calls[0]!.resolve();
    await first;
    advance(700);
    expect(await settled(freshness.check())).toBe('resolved');
    expect(calls).toHaveLength(2);
    // One renewal at a time, however many calls arrive.
    await freshness.check();
    expect(calls).toHaveLength(2);
  });

  it('refuses with UNAVAILABLE past a second when the leader cannot be reached, and serves again once it confirms', async () => {
    const { freshness, calls, advance } = rig();
    const first = freshness.check();
    calls[0]!.resolve();
    await first;
    advance(700);
    await freshness.check();
    calls[1]!.reject(new WireError('UNAVAILABLE', 'no leader'));
    await new Promise((r) => setImmediate(r));
    advance(400);
    const refused = freshness.check();
    expect(calls).toHaveLength(3);
    // A call past the bound goes on asking for up to a second more: refused once that has passed too.
    advance(1000);
    calls[2]!.reject(new WireError('TIMEOUT', 'a consistent read timed out'));
    await expect(refused).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('cannot vouch for tokens') });
    const again = freshness.check();
    calls[3]!.resolve();
    await expect(again).resolves.toBeUndefined();
  });

  it('past the bound, asks again at once when a confirmation fails, and serves the call on the first that succeeds (a new leader)', async () => {
    const { freshness, calls, advance } = rig();
    const first = freshness.check();
    calls[0]!.resolve();
    await first;
    advance(1100);
    const waiting = freshness.check();
    // The read index sent to the dead leader: lost. The next one reaches the new leader.
    calls[1]!.reject(new WireError('UNAVAILABLE', 'no leader'));
    await new Promise((r) => setImmediate(r));
    expect(calls).toHaveLength(3);
    expect(await settled(waiting)).toBe('pending');
    calls[2]!.resolve();
    await expect(waiting).resolves.toBeUndefined();
  });

  it('dates a confirmation from when it was asked, not when it came back', async () => {
    const { freshness, calls, advance } = rig();
    const first = freshness.check();
    advance(900);
    calls[0]!.resolve();
    await first;
    // Asked 900 ms ago: a renewal is due already, and past 1 s a call waits for it.
    advance(200);
    const late = freshness.check();
    expect(await settled(late)).toBe('pending');
    calls[1]!.resolve();
    await late;
  });
});

describe('the API with token freshness', () => {
  let t: TestApi | undefined;
  const read = { method: 'GET', url: '/v1/pipelines' } as const;

  it('answers 503 to a token-authenticated call on a node that cannot confirm its state, and health still answers', async () => {
    t = await testApi({ auth: { confirmTokens: () => new Promise(() => undefined) } });
    try {
      const res = await t.api.inject(read);
      expect(res.statusCode).toBe(503);
      expect(res.json().error.code).toBe('UNAVAILABLE');
      expect((await t.api.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('serves a token-authenticated call once the node has confirmed its state', async () => {
    let confirmations = 0;
    t = await testApi({ auth: { confirmTokens: async () => void confirmations++ } });
    try {
      expect((await t.api.inject(read)).statusCode).toBe(200);
      expect((await t.api.inject(read)).statusCode).toBe(200);
      expect(confirmations).toBe(1);
    } finally {
      await t.close();
    }
  });
});
