import { describe, expect, it } from 'vitest';
import { FailedAuthLimiter } from '../../src/security/auth-rate-limit.js';
import { identifyToken, pipelineAllowed, generateToken, verifyToken, type TokenRecord } from '../../src/security/auth-tokens.js';

describe('FailedAuthLimiter', () => {
  it('lets a burst of failures through, then asks to wait until the bucket refills', () => {
    let now = 0;
    const limiter = new FailedAuthLimiter({ burst: 2, perSecond: 0.5, now: () => now });
    expect(limiter.retryAfter('a')).toBe(0);
    limiter.fail('a');
    expect(limiter.retryAfter('a')).toBe(0);
    limiter.fail('a');
    expect(limiter.retryAfter('a')).toBe(2);
    expect(limiter.retryAfter('b')).toBe(0);
    now += 1000;
    expect(limiter.retryAfter('a')).toBe(1);
    now += 1000;
    expect(limiter.retryAfter('a')).toBe(0);
  });

  it('forgets the least recently failing address beyond its bound', () => {
    const limiter = new FailedAuthLimiter({ burst: 1, perSecond: 0.001, maxClients: 2, now: () => 0 });
    for (const a of ['a', 'b', 'c']) limiter.fail(a);
    expect(['a', 'b', 'c'].map((a) => limiter.retryAfter(a) > 0)).toEqual([false, true, true]);
  });
});

describe('tokens', () => {
  const record = (t: { id: string; hash: string }, more: Partial<TokenRecord> = {}): TokenRecord => ({
    id: t.id,
    hash: t.hash,
    role: 'viewer',
    pipelines: null,
    name: '',
    createdAt: 0,
    createdBy: 'x',
    expiresAt: null,
    revokedAt: null,
    ...more,
  });

  it('are found by the id of their hash and checked against the record, its revocation and its expiry', () => {
    const t = generateToken();
    const { id, hash } = identifyToken(t.token);
    expect(id).toBe(t.id);
    expect(verifyToken(record(t), hash, 5).id).toBe(t.id);
    expect(() => verifyToken(record(t, { hash: generateToken().hash }), hash, 5)).toThrow(/not known/);
    expect(() => verifyToken(undefined, hash, 5)).toThrow(/not known/);
    expect(() => verifyToken(record(t, { revokedAt: 1 }), hash, 5)).toThrow(/revoked/);
    expect(() => verifyToken(record(t, { expiresAt: 5 }), hash, 5)).toThrow(/expired/);
    expect(verifyToken(record(t, { expiresAt: 6 }), hash, 5).id).toBe(t.id);
    expect(() => identifyToken('short')).toThrow(expect.objectContaining({ code: 'UNAUTHORIZED' }));
  });

  it('limited by patterns match whole names, * standing for any run of characters', () => {
    expect(pipelineAllowed(['orders-*'], 'orders-eu')).toBe(true);
    expect(pipelineAllowed(['orders-*'], 'orders')).toBe(false);
    expect(pipelineAllowed(['orders-*'], 'old-orders-eu')).toBe(false);
    expect(pipelineAllowed(['*-eu', 'billing'], 'billing')).toBe(true);
    expect(pipelineAllowed(null, 'anything')).toBe(true);
  });
});
