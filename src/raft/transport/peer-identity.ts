/**
 * Under mutual TLS a peer is who its certificate says, not who its handshake says: a node's certificate
 * carries its Raft node id as a URI subject alternative name `wire-node:<id>`, and a connection whose
 * handshake (inbound) or expected peer (outbound) names another id is refused.
 */
import type { PeerCertificate } from 'node:tls';
import type { NodeId } from '../core/types.js';

export const NODE_ID_URI_SCHEME = 'wire-node:';

/** The subjectAltName URI that names node `id` (what a node certificate must carry). */
export function nodeIdUri(id: NodeId): string {
  return `${NODE_ID_URI_SCHEME}${id}`;
}

/**
 * The node ids a certificate names. Node prints `subjectaltname` as `TYPE:value` entries joined by ", ",
 * quoting (as a JSON string) any value holding a comma, quote or other special character.
 */
export function certificateNodeIds(cert: Pick<PeerCertificate, 'subjectaltname'> | undefined): NodeId[] {
  const san = cert?.subjectaltname;
  if (typeof san !== 'string') return [];
  const ids: NodeId[] = [];
  for (const match of san.matchAll(/(?:^|, )URI:("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    const raw = match[1] as string;
    let uri: string;
    try {
      uri = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    } catch {
      continue; // not a value Node writes; such a name identifies nobody
    }
    if (uri.startsWith(NODE_ID_URI_SCHEME)) ids.push(uri.slice(NODE_ID_URI_SCHEME.length));
  }
  return ids;
}

/** Why `cert` does not identify node `id`, or undefined when it does. */
export function peerIdentityError(cert: Pick<PeerCertificate, 'subjectaltname'> | undefined, id: NodeId): Error | undefined {
  const ids = certificateNodeIds(cert);
  if (ids.includes(id)) return undefined;
  const names = ids.length === 0 ? `no ${NODE_ID_URI_SCHEME} name` : ids.map(nodeIdUri).join(', ');
  return new Error(`peer certificate does not name node ${id} (it has ${names})`);
}
