import { describe, expect, it } from 'vitest';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import { runPipeline } from '../../src/engine/runner.js';
import { CountingSource, MemorySink, fakeRegistry, spec } from './fakes.js';

/** Records when it was hurried: how many saves it had taken by then. */
class HurriedStore extends MemoryCheckpointStore {
  saves = 0;
  readonly hurriedAfter: number[] = [];
  override async save(...args: Parameters<MemoryCheckpointStore['save']>): Promise<void> {
    this.saves++;
    await super.save(...args);
  }
  hurry(key: string): void {
    expect(key).toBe('test');
    this.hurriedAfter.push(this.saves);
  }
}

describe('a checkpoint someone waits on', () => {
  it("hurries its store before the run's last checkpoint, and only then (a store that batches saves sends it at once)", async () => {
    const store = new HurriedStore();
    const handle = runPipeline({ spec: spec(), registry: fakeRegistry({ source: new CountingSource({ count: 1_000 }), sink: new MemorySink() }), checkpointStore: store, dataDir: '/x' });
    const summary = await handle.done;
    expect(summary).toMatchObject({ cause: 'end', checkpoint: 999 });
    // The opening save, then the last: hurried once, before the last was saved.
    expect(store.hurriedAfter).toEqual([store.saves - 1]);
  });
});
