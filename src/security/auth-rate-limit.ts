/**
 * Failed authentications, limited per client address: a token bucket of `burst` failures refilled at `perSecond`.
 * While an address's bucket is empty every call from it that needs a token is answered 429 before its token is
 * looked at, so guessing gains nothing from the answers. Addresses are bounded (`maxClients`): the least recently
 * failed is forgotten first.
 */
export interface FailureLimitOptions {
  readonly burst?: number;
  readonly perSecond?: number;
  readonly maxClients?: number;
  readonly now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class FailedAuthLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly burst: number;
  private readonly perSecond: number;
  private readonly maxClients: number;
  private readonly now: () => number;

  constructor(options: FailureLimitOptions = {}) {
    this.burst = options.burst ?? 10;
    this.perSecond = options.perSecond ?? 1;
    this.maxClients = options.maxClients ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** Seconds to wait before `address` may try again; 0 when it may now. */
  retryAfter(address: string): number {
    const b = this.refilled(address);
    return b === undefined || b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) / this.perSecond);
  }

  fail(address: string): void {
    const b = this.refilled(address) ?? { tokens: this.burst, at: this.now() };
    b.tokens = Math.max(0, b.tokens - 1);
    // Re-inserted: the map's order is the order of last failure, oldest first.
    this.buckets.delete(address);
    this.buckets.set(address, b);
    if (this.buckets.size > this.maxClients) this.buckets.delete(this.buckets.keys().next().value!);
  }

  private refilled(address: string): Bucket | undefined {
    const b = this.buckets.get(address);
    if (b === undefined) return undefined;
    const now = this.now();
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    if (b.tokens >= this.burst) this.buckets.delete(address);
    return b;
  }
}
