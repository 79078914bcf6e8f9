/**
 * A node's tokens at start: its first start creates an admin token, written once to `DATA_DIR/admin.token` (0600)
 * and never logged; `--join-token` is registered as a join token. Both wait for the node to be a member with a
 * leader, and both are idempotent (a token's id comes from its hash): a restart proposes nothing new, and a token
 * revoked since stays revoked (the revocation keeps its record). The file is written once its token is committed,
 * so a token read from it works; a crash in between leaves a record whose secret nobody ever had, and the next
 * start makes another.
 */
import path from 'node:path';
import { WireError } from '../../core/errors.js';
import type { ClusterHandle } from '../../cluster/handle.js';
import { ADMIN_TOKEN_FILE, readTokenFile, writeTokenFile } from '../../security/auth-token-file.js';
import { generateToken, hashToken, MIN_TOKEN_LENGTH, tokenIdOf, type Role } from '../../security/auth-tokens.js';

const RETRY_MS = 50;

export interface NodeTokens {
  readonly handle: ClusterHandle;
  readonly dataDir: string;
  readonly joinToken: string | undefined;
  readonly stopped: () => boolean;
  readonly debug: (message: string) => void;
}

/** Checked with the flags, before anything starts: a join token a person chose must be long enough to be secret. */
export function checkJoinTokenFlag(token: string | undefined): void {
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    throw new WireError('INVALID_INPUT', `--join-token: at least ${MIN_TOKEN_LENGTH} characters (a random one: wire token create --role join)`, { flag: '--join-token' });
  }
}

/** Resolves once the admin token (and the join token, if given) is in this node's applied state. */
export async function provisionNodeTokens(o: NodeTokens): Promise<void> {
  const file = path.join(o.dataDir, ADMIN_TOKEN_FILE);
  const existing = await readTokenFile(file);
  const admin = existing ?? generateToken().token;
  await register(o, admin, 'admin', `admin token of node ${o.handle.id} (its first start)`);
  if (existing === undefined && !o.stopped()) await writeTokenFile(file, admin);
  if (o.joinToken !== undefined) await register(o, o.joinToken, 'join', `join token given to node ${o.handle.id}`);
}

async function register(o: NodeTokens, token: string, role: Role, name: string): Promise<void> {
  const hash = hashToken(token);
  const id = tokenIdOf(hash);
  while (!o.stopped()) {
    if ((await o.handle.read((s) => s.token(id))) !== undefined) return;
    try {
      await o.handle.write({
        v: 1,
        type: 'token.create',
        id,
        hash,
        role,
        pipelines: null,
        name,
        createdBy: `node:${o.handle.id}`,
        expiresAt: null,
        at: Date.now(),
        by: { node: o.handle.id, address: '', token: null, role: null, action: `node start: ${role} token` },
      });
      return;
    } catch (error) {
      // Until the node is a member with a leader and the cluster record, writes fail (UNAVAILABLE, CONFLICT…), and a
      // leader change may fail one that did apply: each is tried again after reading the state, so nothing is made
      // twice. Only a command this node itself built wrong is fatal.
      if (!(error instanceof WireError) || error.code === 'INVALID_INPUT') throw error;
      o.debug(`registering the ${role} token ${id}: ${error.message}`);
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }
}
