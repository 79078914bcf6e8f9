import type { Checkpoint, CheckpointStore } from '../core/ports.js';

/** Checkpoints in memory: for tests and for runs that must leave nothing behind. */
export class MemoryCheckpointStore implements CheckpointStore {
  private readonly entries = new Map<string, Checkpoint>();
  /** Every checkpoint saved, in order (tests check acks only ever move forward). */
  readonly history: { key: string; checkpoint: Checkpoint }[] = [];

  async load(key: string): Promise<Checkpoint | undefined> {
    const value = this.entries.get(key);
    return value === undefined ? undefined : structuredClone(value);
  }

  async save(key: string, checkpoint: Checkpoint): Promise<void> {
    const copy = structuredClone(checkpoint);
    this.entries.set(key, copy);
    this.history.push({ key, checkpoint: copy });
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
