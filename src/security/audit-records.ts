/**
 * The audit log's records and its bound. Entries live in the replicated `audit` keyspace under consecutive
 * sequence numbers; appending past `MAX_AUDIT_ENTRIES` drops the oldest, in the same apply, so every node
 * keeps the same window. The bound is a constant of the state, not a flag: nodes with different bounds
 * would drop different entries.
 */
import type { ErrorCode } from '../core/errors.js';
import type { Role } from './auth-tokens.js';

export const MAX_AUDIT_ENTRIES = 10_000;

/** Entries one `audit.append` command may carry (a node's batch of calls refused before reaching Raft). */
export const MAX_AUDIT_BATCH = 256;

/** One call: who (token, role), from where (node, client address), what (action, target, command), when, result. */
export interface AuditEntry {
  /** Milliseconds since the epoch, from the node that served the call. */
  readonly at: number;
  /** The node that served the call. */
  readonly node: string;
  /** The client's address as that node saw it. */
  readonly address: string;
  /** The token's id; null when none was valid. */
  readonly token: string | null;
  readonly role: Role | null;
  /** `METHOD /route` (the route's pattern, or the path of an unknown route). */
  readonly action: string;
  /** The pipeline, token or node the call is about, when it names one. */
  readonly target: string | null;
  /** The state machine command it became, if any. */
  readonly command: string | null;
  /** `ok`, or the error code answered. */
  readonly result: 'ok' | ErrorCode;
  /** The HTTP status answered; null for an entry written when its command applied (the call then succeeded). */
  readonly status: number | null;
}

export interface AuditRecord extends AuditEntry {
  readonly seq: number;
}

/** The first and last sequence numbers held, when any. */
export interface AuditEdges {
  readonly first: number;
  readonly last: number;
}

/**
 * An entry's key: its sequence number as 16 digits, so keys sort in sequence order. (A one-number array key
 * would read back from LMDB as a bare number, which a snapshot's checks refuse as a key.)
 */
export function auditKey(seq: number): string {
  return String(seq).padStart(16, '0');
}

/** Where `count` new entries go, and which old ones leave to keep the bound. */
export function planAuditAppend(edges: AuditEdges | undefined, count: number, bound = MAX_AUDIT_ENTRIES): { seqs: number[]; drop: number[] } {
  const first = edges?.first ?? 1;
  const last = edges?.last ?? 0;
  const seqs = Array.from({ length: count }, (_, i) => last + 1 + i);
  const excess = last + count - first + 1 - bound;
  const drop = Array.from({ length: Math.max(0, excess) }, (_, i) => first + i);
  return { seqs, drop };
}
