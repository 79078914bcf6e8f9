/**
 * The decoded records of the keyspaces every checkpoint batch reads, kept between applies: each checkpoint of a
 * batch needs its task's epoch and node and its last checkpoint's (epoch, seq), and reading and decoding both from
 * LMDB for every task of every node each second was most of what applying cost a leader (`docs/performance.md`).
 *
 * Only the state machine's apply reads and fills it, and every write it makes to these keyspaces goes through it
 * (`fsm.ts`), so it holds exactly what LMDB holds (written in the same transaction): applying with it is applying
 * without it. A restore replaces the state and empties it. Only records that exist are kept, so it holds no more
 * than the state does, whatever keys a command names.
 */
import { KEYSPACES, type KeyspaceName, type StateKey } from './keyspaces.js';

/** Keyed by [pipeline, task]: neither part holds '\u0000' (`tasks/task-commands.ts`, `PIPELINE_NAME`). */
const CACHED: ReadonlySet<KeyspaceName> = new Set([KEYSPACES.tasks, KEYSPACES.checkpoints]);

const keyOf = (key: StateKey): string => (typeof key === 'string' ? key : key.join('\u0000'));

export class RecordCache {
  private readonly records = new Map<KeyspaceName, Map<string, unknown>>([...CACHED].map((k) => [k, new Map()]));

  /** The record at `key`, from here or else from `load` (kept if it exists); `undefined` when there is none. */
  get<T>(keyspace: KeyspaceName, key: StateKey, load: () => T | undefined): T | undefined {
    const records = this.records.get(keyspace);
    if (records === undefined) return load();
    const id = keyOf(key);
    const known = records.get(id) as T | undefined;
    if (known !== undefined) return known;
    const loaded = load();
    if (loaded !== undefined) records.set(id, loaded);
    return loaded;
  }

  /** What a write stores at `key` (the canonical value put, or `undefined` for a delete). */
  written(keyspace: KeyspaceName, key: StateKey, value: unknown): void {
    const records = this.records.get(keyspace);
    if (records === undefined) return;
    if (value === undefined) records.delete(keyOf(key));
    else records.set(keyOf(key), value);
  }

  clear(): void {
    for (const records of this.records.values()) records.clear();
  }
}
