/** One LMDB environment of the replicated state: its root and one named database per keyspace. */
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { ALL_KEYSPACES, type KeyspaceName, type StateKey } from './keyspaces.js';
import type { KeyspaceDbs } from './state-view.js';

/** The data file inside a state directory (LMDB adds `data.mdb-lock` beside it). */
export const DATA_FILE = 'data.mdb';

export interface StateEnv {
  readonly root: RootDatabase<Buffer, StateKey>;
  readonly dbs: KeyspaceDbs;
}

export function openStateEnv(dir: string): StateEnv {
  const root = open<Buffer, StateKey>({ path: join(dir, DATA_FILE), maxDbs: ALL_KEYSPACES.length + 4, compression: false, encoding: 'binary' });
  const dbs = {} as Record<KeyspaceName, KeyspaceDbs[KeyspaceName]>;
  for (const name of ALL_KEYSPACES) dbs[name] = root.openDB<Buffer, StateKey>({ name, encoding: 'binary', compression: false });
  return { root, dbs };
}
