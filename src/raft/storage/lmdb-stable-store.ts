/**
 * Term, vote and commit index in LMDB, in the same environment as the log so a hard state and the
 * entries written in the same event-loop turn share one transaction and one fsync.
 */
import type { Database, RootDatabase } from 'lmdb';
import { EMPTY_HARD_STATE, type HardState } from '../core/types.js';
import type { StableStore } from '../ports.js';
import { CorruptStorageError } from '../errors.js';
import { decodeMeta, encodeMeta } from './record-codec.js';

const HARD_STATE_KEY = 'hardState';

export class LmdbStableStore implements StableStore {
  private constructor(
    private readonly meta: Database<Buffer, string>,
    private state: HardState,
  ) {}

  /** Opens the store; a hard state that fails its checksum cannot be repaired, so it throws. */
  static open(root: RootDatabase): LmdbStableStore {
    const meta = root.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' });
    const record = meta.get(HARD_STATE_KEY);
    if (!record) return new LmdbStableStore(meta, EMPTY_HARD_STATE);
    const value = decodeMeta(record);
    if (!isHardState(value)) throw new CorruptStorageError('hard state fails its checksum');
    return new LmdbStableStore(meta, value);
  }

  loadHardState(): HardState {
    return this.state;
  }

  async saveHardState(state: HardState): Promise<void> {
    this.state = { term: state.term, vote: state.vote, commit: state.commit };
    await this.meta.put(HARD_STATE_KEY, encodeMeta(this.state));
  }

  async close(): Promise<void> {
    await this.meta.flushed;
  }
}

function isHardState(v: unknown): v is HardState {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return Number.isSafeInteger(o.term) && Number.isSafeInteger(o.commit) && (o.vote === null || typeof o.vote === 'string');
}
