/**
 * What a joining node must show when the node port has no mutual TLS: a join token (role `join`, or an admin
 * token), checked by the leader against its applied state like any token, so it can expire and be revoked.
 */
import { WireError } from '../core/errors.js';
import { identifyToken, verifyToken, type TokenRecord } from './auth-tokens.js';

export function checkJoinToken(presented: string | undefined, lookup: (id: string) => TokenRecord | undefined, now: number): void {
  if (presented === undefined || presented === '') {
    throw new WireError('UNAUTHORIZED', 'joining this cluster needs a join token (--join-token or WIRE_JOIN_TOKEN) or a node certificate (mutual TLS)');
  }
  const { id, hash } = identifyToken(presented);
  const record = verifyToken(lookup(id), hash, now);
  if (record.role !== 'join' && record.role !== 'admin') {
    throw new WireError('UNAUTHORIZED', `token ${record.id} has the role ${record.role}: joining needs a join or admin token`, { token: record.id });
  }
}
