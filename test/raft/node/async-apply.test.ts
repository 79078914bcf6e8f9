import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Entry, SnapshotMeta } from '../../../src/raft/core/types.js';
import { RaftNode } from '../../../src/raft/node.js';
import type { StateMachine } from '../../../src/raft/ports.js';
import { openDiskStorage } from '../../../src/raft/storage/disk-storage.js';
import { encodeCommand, KvStateMachine, type KvResult } from '../kv.js';
import { waitFor } from '../transport/wait.js';
import { FakeTransport } from './fake-transport.js';

/** The test kv, answering each apply a turn later (the driver applies synchronously only a synchronous state machine). */
class AsyncKv implements StateMachine {
  readonly kv = new KvStateMachine();
  apply(entries: readonly Entry[]): Promise<KvResult[]> {
    const results = this.kv.apply(entries);
    return new Promise((resolve) => setImmediate(() => resolve(results)));
  }
  snapshot(): AsyncIterable<Uint8Array> {
    return this.kv.snapshot();
  }
  restore(data: AsyncIterable<Uint8Array>, meta: SnapshotMeta): Promise<void> {
    return this.kv.restore(data, meta);
  }
}

describe('RaftNode: a state machine that applies asynchronously', () => {
  let dir: string;
  let node: RaftNode | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wire-raft-async-apply-'));
  });
  afterEach(async () => {
    await node?.stop();
    node = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('applies every entry once, in order, around a membership change in the same batch, and settles each proposal with its result', async () => {
    const sm = new AsyncKv();
    node = await RaftNode.start({
      id: 'solo',
      address: '127.0.0.1:1',
      membership: { voters: [{ id: 'solo', address: '127.0.0.1:1' }], learners: [] },
      storage: await openDiskStorage(dir),
      transport: new FakeTransport(),
      stateMachine: sm,
      tickMs: 10,
      onError: () => undefined,
    });
    await waitFor('leadership', () => node!.status().role === 'leader');
    // The leader's first entry committed: a membership change is taken at once from here.
    await node.propose(encodeCommand({ op: 'put', key: 'warm', value: 'up' }));

    // Proposed in one turn: they commit together, the learner's entry between two runs of puts.
    const n = node;
    const before = n.status().lastIndex;
    const first = Array.from({ length: 10 }, (_, i) => n.propose(encodeCommand({ op: 'put', key: 'k', value: `a${i}` })));
    const learner = n.addLearner({ id: 'learner', address: '127.0.0.1:2' });
    const second = Array.from({ length: 10 }, (_, i) => n.propose(encodeCommand({ op: 'put', key: 'k', value: `b${i}` })));
    const outcomes = await Promise.all([...first, ...second]);
    await learner;

    // Each put saw the one before it: applied in index order, each exactly once.
    const previous = outcomes.map((o) => (o.result as KvResult & { ok: true }).previous);
    expect(previous).toEqual([null, ...Array.from({ length: 9 }, (_, i) => `a${i}`), 'a9', ...Array.from({ length: 9 }, (_, i) => `b${i}`)]);
    const indexes = outcomes.map((o) => o.index);
    expect(sm.kv.appliedIndexes.slice(-20)).toEqual(indexes);
    expect(indexes[10]! - indexes[9]!).toBe(2); // the membership change sat between the two runs
    expect(new Set(sm.kv.appliedIndexes).size).toBe(sm.kv.appliedIndexes.length);
    expect(indexes[19]).toBe(before + 21);
    expect(n.status().applied).toBe(before + 21);
    expect(n.status().membership.learners.map((m) => m.id)).toEqual(['learner']);
  });
});
