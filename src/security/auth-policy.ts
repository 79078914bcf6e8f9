/**
 * Which role each route needs. Roles are ranked: `viewer` reads, `operator` also changes pipelines, `admin`
 * does everything; a `join` token only joins a node to the cluster and opens no route. A route nobody listed
 * reads with `viewer` and writes with `admin`, so a new route is never more open than that by mistake.
 */
import type { Role } from './auth-tokens.js';

export type Need = 'open' | 'health' | 'viewer' | 'operator' | 'admin';

const RANK: Readonly<Record<Role, number>> = { join: 0, viewer: 1, operator: 2, admin: 3 };
const NEED_RANK: Readonly<Record<'viewer' | 'operator' | 'admin', number>> = { viewer: 1, operator: 2, admin: 3 };

const HEALTH = new Set(['/healthz', '/readyz', '/metrics']);
const READS = new Set(['GET', 'HEAD']);

/** `url`: the route's pattern (`/v1/pipelines/:name`), or undefined for a path no route matches. */
export function routeNeed(method: string, url: string | undefined): Need {
  if (url === undefined) return 'viewer';
  if (HEALTH.has(url)) return 'health';
  // The OpenAPI document and its viewer describe the API; they hold no state.
  if (url === '/docs' || url.startsWith('/docs/')) return 'open';
  // A backup holds the whole state: token hashes and the audit log too.
  if (url.startsWith('/v1/tokens') || url.startsWith('/v1/audit') || url === '/v1/cluster/backup') return 'admin';
  if (READS.has(method)) return 'viewer';
  if (url.startsWith('/v1/pipelines') || url === '/connector') return 'operator';
  return 'admin';
}

export function roleAllows(role: Role, need: 'viewer' | 'operator' | 'admin'): boolean {
  return RANK[role] >= NEED_RANK[need];
}

/** Calls the audit log records even when they succeed: every one that may change something. */
export function isMutating(method: string, url: string | undefined): boolean {
  return !READS.has(method) && url !== '/v1/pipelines/validate';
}
