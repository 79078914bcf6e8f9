/**
 * Authentication and authorization in front of every route of the API (a Fastify `onRequest` hook), and the audit
 * of each call (`onResponse`). A token is checked against this node's applied state (`lookup`), so a revocation
 * or an expiry holds on every node as soon as it has applied the revocation or its clock has passed the expiry;
 * with `freshness`, a node that cannot confirm its state with the leader within a second serves no token.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERROR_TABLE, WireError, type ErrorCode } from '../core/errors.js';
import type { AuditBatcher } from './audit-batcher.js';
import { isJwtShape, type JwtVerifier } from './auth-jwt.js';
import { isMutating, roleAllows, routeNeed } from './auth-policy.js';
import type { FailedAuthLimiter } from './auth-rate-limit.js';
import { identifyToken, pipelineAllowed, verifyToken, type Principal, type TokenRecord } from './auth-tokens.js';
import { isLoopback } from './exposure.js';
import type { TokenFreshness } from './token-freshness.js';

/** Who reaches `/healthz`, `/readyz`, `/metrics` without a token: callers on loopback (default), everyone, or no one. */
export const HEALTH_ACCESS = ['loopback', 'open', 'token'] as const;
export type HealthAccess = (typeof HEALTH_ACCESS)[number];

export interface AuthOptions {
  /** The token record of an id in this node's applied state. */
  readonly lookup: (id: string) => Promise<TokenRecord | undefined>;
  readonly health: HealthAccess;
  readonly limiter: FailedAuthLimiter;
  /** Where calls not recorded when their command applied go; none: no audit (a test's API without a cluster). */
  readonly audit?: AuditBatcher;
  /** This node's id, named in audit entries. */
  readonly node: string;
  /** Verifies a bearer shaped like a JWT against the configured issuer (`auth-jwt.ts`); none: JWTs are not accepted. */
  readonly jwt?: Pick<JwtVerifier, 'verify'>;
  /** Whether this node's tokens are current (`token-freshness.ts`); none: its applied state is trusted as it is. */
  readonly freshness?: TokenFreshness;
  readonly now?: () => number;
}

/** What the API's `by` field of a command says about the call it came from. */
export interface Actor {
  readonly node: string;
  readonly address: string;
  readonly token: string | null;
  readonly role: Principal['role'] | null;
  readonly action: string;
}

interface CallState {
  principal?: Principal;
  /** The token a refused call presented, when it names a known one. */
  tokenId?: string;
  /** Its command was applied with `by`: the apply wrote its audit entry. */
  audited?: boolean;
  target?: string;
}

const calls = new WeakMap<FastifyRequest, CallState>();
const stateOf = (request: FastifyRequest): CallState => {
  let s = calls.get(request);
  if (!s) calls.set(request, (s = {}));
  return s;
};

export function principalOf(request: FastifyRequest): Principal | undefined {
  return calls.get(request)?.principal;
}

export function actionOf(request: FastifyRequest): string {
  return `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0] ?? ''}`;
}

export function actorOf(request: FastifyRequest, node: string): Actor {
  const p = principalOf(request);
  return { node, address: request.ip.slice(0, 64), token: p?.tokenId ?? null, role: p?.role ?? null, action: actionOf(request).slice(0, 300) };
}

/** The call's command applied with `by`: its audit entry is written already. */
export function markAudited(request: FastifyRequest): void {
  stateOf(request).audited = true;
}

/** FORBIDDEN unless the caller's token covers pipeline `name`. */
export function authorizePipeline(request: FastifyRequest, name: string): void {
  stateOf(request).target = name;
  const p = principalOf(request);
  if (p && !pipelineAllowed(p.pipelines, name)) {
    throw new WireError('FORBIDDEN', `token ${p.tokenId} is limited to pipelines ${p.pipelines?.join(', ') ?? ''}`, { token: p.tokenId, pipeline: name });
  }
}

/** Whether the caller may see pipeline `name` (a list shows a limited token only its pipelines). */
export function canSeePipeline(request: FastifyRequest, name: string): boolean {
  const p = principalOf(request);
  return p === undefined || pipelineAllowed(p.pipelines, name);
}

function bearer(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const m = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  return m?.[1] ?? '';
}

export function installAuth(api: FastifyInstance, options: AuthOptions): void {
  const now = options.now ?? Date.now;

  const refuse = (request: FastifyRequest, reply: FastifyReply, error: WireError): never => {
    if (error.code === 'UNAUTHORIZED') {
      options.limiter.fail(request.ip);
      void reply.header('www-authenticate', 'Bearer realm="wire"');
    }
    throw error;
  };

  api.addHook('onRequest', async (request, reply) => {
    const need = routeNeed(request.method, request.routeOptions.url);
    if (need === 'open') return;
    if (need === 'health' && (options.health === 'open' || (options.health === 'loopback' && isLoopback(request.ip)))) return;
    const wait = options.limiter.retryAfter(request.ip);
    if (wait > 0) {
      void reply.header('retry-after', String(wait));
      throw new WireError('RATE_LIMITED', `too many failed authentications from ${request.ip}; retry in ${wait} s`, { retryAfter: wait });
    }
    const presented = bearer(request);
    if (presented === undefined) return refuse(request, reply, new WireError('UNAUTHORIZED', 'this route needs a token: Authorization: Bearer <token> (wire: --token, WIRE_TOKEN or --token-file; a node\'s first start wrote DATA_DIR/admin.token)'));
    let principal: Principal;
    try {
      if (options.jwt !== undefined && isJwtShape(presented)) {
        principal = await options.jwt.verify(presented, now());
      } else {
        const { id, hash } = identifyToken(presented);
        const record: TokenRecord = verifyToken(await options.lookup(id), hash, now());
        principal = { tokenId: record.id, role: record.role, pipelines: record.pipelines };
      }
    } catch (error) {
      if (error instanceof WireError && typeof error.details['token'] === 'string') stateOf(request).tokenId = error.details['token'];
      return refuse(request, reply, error as WireError);
    }
    // A health check answers whether or not a leader is heard; every other call needs tokens known to be current.
    if (need !== 'health') await options.freshness?.check();
    stateOf(request).principal = principal;
    const role = need === 'health' ? 'viewer' : need;
    if (!roleAllows(principal.role, role)) {
      const { tokenId } = principal;
      throw new WireError('FORBIDDEN', `token ${tokenId} has the role ${principal.role}; ${actionOf(request)} needs ${role}`, { token: tokenId, role: principal.role, needs: role });
    }
    const name = (request.params as Record<string, unknown> | undefined)?.['name'];
    if (typeof name === 'string' && request.routeOptions.url?.startsWith('/v1/pipelines/:name')) authorizePipeline(request, name);
  });

  api.addHook('onResponse', async (request, reply) => {
    const audit = options.audit;
    const s = calls.get(request);
    const status = reply.statusCode;
    if (!audit || s?.audited === true) return;
    if (!isMutating(request.method, request.routeOptions.url) && status !== 401 && status !== 403 && status !== 429) return;
    const params = request.params as Record<string, unknown> | undefined;
    const target = s?.target ?? (typeof params?.['name'] === 'string' ? params['name'] : typeof params?.['id'] === 'string' ? params['id'] : null);
    audit.add({
      at: now(),
      node: options.node,
      address: request.ip.slice(0, 64),
      token: s?.principal?.tokenId ?? s?.tokenId ?? null,
      role: s?.principal?.role ?? null,
      action: actionOf(request).slice(0, 300),
      target: target === null ? null : target.slice(0, 253),
      command: null,
      result: status < 400 ? 'ok' : codeOfStatus(status),
      status,
    });
  });
}

function codeOfStatus(status: number): ErrorCode {
  if (status === 413 || status === 415) return 'INVALID_INPUT';
  const found = (Object.entries(ERROR_TABLE) as [ErrorCode, { httpStatus: number }][]).find(([, m]) => m.httpStatus === status);
  return found?.[0] ?? (status >= 500 ? 'INTERNAL' : 'INVALID_INPUT');
}
