/**
 * Under mutual TLS a node is who its certificate says (`wire-node:<id>`): a join must come from the node it
 * names, or be forwarded by a member (a follower passes joins on to the leader), and a node answering `hello` or
 * `ping` must name itself as its certificate does (forming and joining believe those answers). On a plaintext node
 * port nobody is known and nothing is checked here.
 */
import { WireError } from '../core/errors.js';
import type { RpcPeer } from './rpc.js';

export function checkJoinCaller(peer: RpcPeer, joiner: string, isMember: (id: string) => boolean): void {
  const ids = peer.nodeIds;
  if (ids === null || ids.includes(joiner) || ids.some((id) => isMember(id))) return;
  const names = ids.length === 0 ? 'no node' : ids.map((id) => `wire-node:${id}`).join(', ');
  throw new WireError('FORBIDDEN', `a node whose certificate names ${names} cannot join as '${joiner}'`, { node: joiner });
}

/** Why an answer to `method` from a server whose certificate names `serverIds` cannot be believed, if it cannot. */
export function answerIdentityError(method: string, result: unknown, serverIds: readonly string[] | null, address: string): WireError | undefined {
  if (serverIds === null || (method !== 'hello' && method !== 'ping')) return undefined;
  const id = (result as { id?: unknown } | null)?.id;
  if (typeof id === 'string' && serverIds.includes(id)) return undefined;
  const names = serverIds.length === 0 ? 'no node' : serverIds.map((n) => `wire-node:${n}`).join(', ');
  return new WireError('FORBIDDEN', `the node at ${address} answered as '${String(id)}' with a certificate naming ${names}`, { peer: address });
}
