/**
 * `<data-dir>/node.json`: which node and which cluster a data dir belongs to. Written (atomically, fsynced)
 * once the node knows its cluster, before Raft starts, so a restart rejoins with the same identity and a data
 * dir is never used by another node id or for another cluster.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { WireError } from '../core/errors.js';

export interface NodeIdentity {
  readonly nodeId: string;
  readonly clusterId: string;
  /** False while a join is under way: a restart then asks the cluster again. */
  readonly member: boolean;
  /** The founding voters, when this node was one: a fellow founder that has not started yet starts with them. */
  readonly founders?: ReadonlyArray<{ readonly id: string; readonly address: string }>;
}

const FILE = 'node.json';

export async function readIdentity(dataDir: string): Promise<NodeIdentity | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dataDir, FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new WireError('UNAVAILABLE', `cannot read ${path.join(dataDir, FILE)}: ${(error as Error).message}`, {}, error);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (error) {
    throw new WireError('INTERNAL', `${path.join(dataDir, FILE)} is damaged (not JSON)`, {}, error);
  }
  const o = v as Partial<NodeIdentity> | null;
  if (typeof o?.nodeId !== 'string' || typeof o.clusterId !== 'string' || typeof o.member !== 'boolean') {
    throw new WireError('INTERNAL', `${path.join(dataDir, FILE)} is damaged (fields missing)`);
  }
  const founders = Array.isArray(o.founders) && o.founders.every((f) => typeof f?.id === 'string' && typeof f.address === 'string') ? o.founders : undefined;
  return { nodeId: o.nodeId, clusterId: o.clusterId, member: o.member, ...(founders ? { founders } : {}) };
}

export async function writeIdentity(dataDir: string, identity: NodeIdentity): Promise<void> {
  await mkdir(dataDir, { recursive: true });
  const target = path.join(dataDir, FILE);
  const tmp = `${target}.tmp`;
  const file = await open(tmp, 'w');
  try {
    await file.writeFile(`${JSON.stringify(identity)}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, target);
  const dir = await open(dataDir, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
