/**
 * Under mutual TLS a node is who its certificate says (`wire-node:<id>`): a join must come from the node it
 * names, or be forwarded by a member (a follower passes joins on to the leader). On a plaintext node port the
 * caller is not known and nothing is checked here.
 */
import { WireError } from '../core/errors.js';
import type { RpcPeer } from './rpc.js';

export function checkJoinCaller(peer: RpcPeer, joiner: string, isMember: (id: string) => boolean): void {
  const ids = peer.nodeIds;
  if (ids === null || ids.includes(joiner) || ids.some((id) => isMember(id))) return;
  const names = ids.length === 0 ? 'no node' : ids.map((id) => `wire-node:${id}`).join(', ');
  throw new WireError('FORBIDDEN', `a node whose certificate names ${names} cannot join as '${joiner}'`, { node: joiner });
}
