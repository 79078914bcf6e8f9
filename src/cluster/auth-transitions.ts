/**
 * The rules of the token and audit commands, and the audit entry of a command that came from an API call (`by`):
 * pure functions of (state, command), as `transitions.ts`, which calls them.
 */
import { WireError } from '../core/errors.js';
import { auditKey, planAuditAppend, type AuditEntry } from '../security/audit-records.js';
import type { TokenRecord } from '../security/auth-tokens.js';
import type { ClusterCommand, CommandOf } from './commands.js';
import { KEYSPACES } from './keyspaces.js';
import type { StateReader } from './state-view.js';
import type { Plan, StateWrite } from './transitions.js';

export function createToken(state: StateReader, c: CommandOf<'token.create'>): Plan {
  const existing = state.token(c.id);
  if (existing) {
    // The same token again (a node's first start retried after a crash) succeeds and changes nothing.
    if (existing.hash === c.hash) return { ok: true, writes: [], outcome: { kind: 'token', token: existing } };
    return { ok: false, error: new WireError('CONFLICT', `token ${c.id} exists with another secret`, { token: c.id }) };
  }
  const token: TokenRecord = { id: c.id, hash: c.hash, role: c.role, pipelines: c.pipelines, name: c.name, createdAt: c.at, createdBy: c.createdBy, expiresAt: c.expiresAt, revokedAt: null };
  return { ok: true, writes: [{ keyspace: KEYSPACES.tokens, key: c.id, value: token }], outcome: { kind: 'token', token } };
}

/** A revoked token stays, marked: a node's first start must not bring back an admin token revoked since. */
export function revokeToken(state: StateReader, c: CommandOf<'token.revoke'>): Plan {
  const existing = state.token(c.id);
  if (!existing) return { ok: false, error: new WireError('NOT_FOUND', `token ${c.id} does not exist`, { token: c.id }) };
  if (existing.revokedAt !== null) return { ok: true, writes: [], outcome: { kind: 'token', token: existing } };
  const token: TokenRecord = { ...existing, revokedAt: c.at };
  return { ok: true, writes: [{ keyspace: KEYSPACES.tokens, key: c.id, value: token }], outcome: { kind: 'token', token } };
}

export function appendAudit(state: StateReader, c: CommandOf<'audit.append'>): Plan {
  return { ok: true, writes: auditWrites(state, c.entries), outcome: { kind: 'audited', count: c.entries.length } };
}

/** A successful command's own audit entry, written in the same apply; a rejected one is recorded by the API that answered it. */
export function withAuditEntry(state: StateReader, command: ClusterCommand, plan: Plan): Plan {
  if (!plan.ok || command.by === undefined || command.type === 'audit.append') return plan;
  const { node, address, token, role, action } = command.by;
  const entry: AuditEntry = { at: command.at, node, address, token, role, action, target: targetOf(command), command: command.type, result: 'ok', status: null };
  return { ...plan, writes: [...plan.writes, ...auditWrites(state, [entry])] };
}

function targetOf(command: ClusterCommand): string | null {
  // A token's `name` describes it; the token is named by its id.
  if (command.type === 'token.create' || command.type === 'token.revoke') return command.id;
  if ('name' in command && typeof command.name === 'string') return command.name;
  if ('id' in command && typeof command.id === 'string') return command.id;
  return null;
}

function auditWrites(state: StateReader, entries: readonly AuditEntry[]): StateWrite[] {
  const { seqs, drop } = planAuditAppend(state.auditEdges(), entries.length);
  const writes: StateWrite[] = drop.map((seq) => ({ keyspace: KEYSPACES.audit, key: auditKey(seq) }));
  entries.forEach((entry, i) => writes.push({ keyspace: KEYSPACES.audit, key: auditKey(seqs[i]!), value: { ...entry, seq: seqs[i]! } }));
  return writes;
}
