/**
 * The API's authentication, authorization and audit (`security/auth-hook.ts`), wired to a node's handle: tokens
 * are looked up in its local applied state, refused calls are batched into `audit.append` commands. On for every
 * API; only how the health routes are reached and the limits can be chosen.
 */
import type { FastifyInstance } from 'fastify';
import type { ClusterHandle } from '../cluster/handle.js';
import { AuditBatcher } from '../security/audit-batcher.js';
import { installAuth, type HealthAccess } from '../security/auth-hook.js';
import { JwtVerifier, type JwtAuthConfig } from '../security/auth-jwt.js';
import { FailedAuthLimiter, type FailureLimitOptions } from '../security/auth-rate-limit.js';
import { TokenFreshness } from '../security/token-freshness.js';

export interface ApiAuthOptions {
  /** Who reaches `/healthz`, `/readyz`, `/metrics` without a token (default: callers on loopback). */
  readonly health?: HealthAccess;
  /** Failed authentications allowed per client address (default: a burst of 10, then 1 a second). */
  readonly failures?: FailureLimitOptions;
  /** How often refused calls are written to the audit log (default 1 s). */
  readonly auditIntervalMs?: number;
  /** Where a failed audit batch is reported (it is kept and tried again). */
  readonly onAuditError?: (error: Error) => void;
  /**
   * Tokens are vouched for only on state confirmed with the leader within a second (`security/token-freshness.ts`):
   * a node passes a linearizable read of its handle. Tests of the routes alone leave it out.
   */
  readonly confirmTokens?: () => Promise<void>;
  /** JWTs of this issuer are accepted beside Wire's tokens (`security/auth-jwt.ts`); none: only Wire's tokens. */
  readonly jwt?: JwtAuthConfig;
}

/** Returns the batcher of refused calls: a node flushes it before it stops, while it can still write. */
export function installApiAuth(api: FastifyInstance, handle: ClusterHandle, options: ApiAuthOptions = {}): AuditBatcher {
  const audit = new AuditBatcher({
    node: handle.id,
    intervalMs: options.auditIntervalMs,
    append: async (entries) => {
      await handle.write({ v: 1, type: 'audit.append', entries: [...entries], at: Date.now() });
    },
    onError: (error) => options.onAuditError?.(error),
  });
  api.addHook('onClose', async () => audit.close());
  installAuth(api, {
    node: handle.id,
    health: options.health ?? 'loopback',
    limiter: new FailedAuthLimiter(options.failures),
    audit,
    lookup: (id) => handle.read((s) => s.token(id)),
    ...(options.confirmTokens === undefined ? {} : { freshness: new TokenFreshness({ confirm: options.confirmTokens }) }),
    ...(options.jwt === undefined ? {} : { jwt: new JwtVerifier(options.jwt) }),
  });
  return audit;
}
