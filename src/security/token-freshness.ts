/**
 * Whether this node's tokens are current enough to vouch for a caller. A node checks tokens against its own applied
 * state; a follower cut off from the leader (or a deposed leader) would go on accepting a token revoked since. So a
 * node confirms with the leader (`confirm`: a read index, which also waits until this node has applied up to it)
 * that it has applied every write committed before a moment; a token-authenticated call is served only while the
 * last such moment is at most `maxAgeMs` old, which makes a revocation hold on every node within that bound.
 * Confirmation is renewed in the background once it is `refreshAfterMs` old, so calls on a healthy node never
 * wait for it; past `maxAgeMs` a call waits for a new one, and is refused UNAVAILABLE if none comes in time.
 */
import { WireError } from '../core/errors.js';

export interface TokenFreshnessOptions {
  /** Resolves once this node has applied every write the leader had committed when it was called. */
  readonly confirm: () => Promise<void>;
  /** The revocation guarantee: a token is vouched for only on state confirmed at most this long ago (1 s). */
  readonly maxAgeMs?: number;
  /** Renew once the confirmation is this old (half the guarantee), so a healthy node renews before it is due. */
  readonly refreshAfterMs?: number;
  readonly now?: () => number;
}

export class TokenFreshness {
  /** When the last successful confirmation was asked for: state applied then holds every earlier commit. */
  private confirmedAt = Number.NEGATIVE_INFINITY;
  private renewing: Promise<void> | undefined;
  private readonly maxAgeMs: number;
  private readonly refreshAfterMs: number;
  /** How long one confirmation may take before another is asked for (a lost one is never answered). */
  private readonly attemptMs: number;
  private readonly now: () => number;

  constructor(private readonly options: TokenFreshnessOptions) {
    this.maxAgeMs = options.maxAgeMs ?? 1000;
    this.refreshAfterMs = options.refreshAfterMs ?? this.maxAgeMs / 2;
    this.attemptMs = Math.min(250, this.maxAgeMs);
    // Monotonic: a wall clock set back would make an old confirmation look recent.
    this.now = options.now ?? (() => performance.now());
  }

  /** Resolves when this node may vouch for tokens now; UNAVAILABLE when it cannot confirm its state in time. */
  async check(): Promise<void> {
    const age = this.now() - this.confirmedAt;
    if (age <= this.refreshAfterMs) return;
    const renewal = this.renew();
    // Still within the guarantee: serve now. A failed renewal is not lost: the first call past the bound renews
    // again and is refused with its error.
    if (age <= this.maxAgeMs) return void renewal.catch(() => undefined);
    // Past it: confirm again, attempt after attempt, for up to the guarantee. A read index sent while there is no
    // leader (it just died) is never answered: each attempt is short, so the first one after the election succeeds.
    const deadline = this.now() + this.maxAgeMs;
    for (let attempt: Promise<void> = renewal; ; attempt = this.renew()) {
      try {
        return await attempt;
      } catch (error) {
        if (this.now() >= deadline) throw error;
      }
    }
  }

  private renew(): Promise<void> {
    this.renewing ??= this.confirmOnce().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private async confirmOnce(): Promise<void> {
    const askedAt = this.now();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new WireError('UNAVAILABLE', `no leader confirmed this node's state within ${this.attemptMs} ms`, { retryable: true })), this.attemptMs);
    });
    try {
      await Promise.race([this.options.confirm(), late]);
    } catch (error) {
      const reason = error instanceof WireError ? error.message : (error as Error).message;
      throw new WireError('UNAVAILABLE', `this node cannot vouch for tokens: it has not heard from a leader within ${this.maxAgeMs} ms (${reason}); retry, or call another node`, { retryable: true }, error);
    } finally {
      clearTimeout(timer);
    }
    this.confirmedAt = Math.max(this.confirmedAt, askedAt);
  }
}
