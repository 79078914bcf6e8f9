/** A token made straight in a node's (or fake handle's) state, for tests that call the API. */
import type { ClusterHandle } from '../../src/cluster/handle.js';
import { generateToken, type Role } from '../../src/security/auth-tokens.js';

export async function createToken(handle: Pick<ClusterHandle, 'write'>, role: Role = 'admin', more: { pipelines?: string[]; expiresAt?: number } = {}): Promise<{ token: string; id: string }> {
  const t = generateToken();
  await handle.write({ v: 1, type: 'token.create', id: t.id, hash: t.hash, role, pipelines: more.pipelines ?? null, name: `test ${role}`, createdBy: 'test', expiresAt: more.expiresAt ?? null, at: Date.now() });
  return { token: t.token, id: t.id };
}
