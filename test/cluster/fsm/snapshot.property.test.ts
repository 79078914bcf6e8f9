import { readdir } from 'node:fs/promises';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClusterStateMachine } from '../../../src/cluster/fsm.js';
import { SNAPSHOT_KEYSPACES } from '../../../src/cluster/keyspaces.js';
import { encodeSnapshot, readSnapshot, type SnapshotEntry } from '../../../src/cluster/snapshot-format.js';
import { chunked, collect, dump, entries, history, openFsm, tempDir, validCommand } from './harness.js';

const RUNS = 40;

describe('snapshot and restore', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await dir.remove();
  });

  it('restore(snapshot(S)) ≡ S for random states, whatever the chunking of the stream', async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(history, history, fc.integer({ min: 1, max: 4096 }), async (source, other, chunk) => {
        round++;
        const a = await openFsm(`${dir.path}/a${round}`);
        const b = await openFsm(`${dir.path}/b${round}`);
        try {
          await a.apply(entries(source, 1, 3));
          // b starts from a different state: restore must replace it whole, not merge.
          await b.apply(entries(other, 1, 1));
          const bytes = await collect(a.snapshot());
          const [ours, theirs] = [b.view().cluster()?.id, a.view().cluster()?.id];
          if (ours !== undefined && theirs !== undefined && ours !== theirs) {
            // Another cluster's state: refused, and b keeps its own.
            const kept = dump(b.view());
            await expect(b.restore(chunked(bytes, chunk))).rejects.toMatchObject({ code: 'CONFLICT' });
            expect(dump(b.view())).toEqual(kept);
            return;
          }
          await b.restore(chunked(bytes, chunk));
          expect(dump(b.view())).toEqual(dump(a.view()));
          // And a snapshot of the restored state is the same bytes.
          expect(Buffer.compare(await collect(b.snapshot()), bytes)).toBe(0);
        } finally {
          await a.close();
          await b.close();
        }
      }),
      { numRuns: RUNS, seed: 1010 },
    );
  });

  it('is a point in time: applies after snapshot() do not reach the stream', async () => {
    const a = await openFsm(`${dir.path}/a`);
    const b = await openFsm(`${dir.path}/b`);
    try {
      const [start, later] = fc.sample(history, { numRuns: 2, seed: 7 }).map((h) => [{ v: 1, type: 'cluster.init', id: 'c1', at: 0 }, ...h]);
      await a.apply(entries(start!, 1));
      const expected = dump(a.view());
      const stream = a.snapshot();
      await a.apply(entries(later!, start!.length + 1));
      await b.restore(stream);
      expect(dump(b.view())).toEqual(expected);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('streams more records than one page of its read transaction, in order', async () => {
    const a = await openFsm(`${dir.path}/a`);
    const b = await openFsm(`${dir.path}/b`);
    try {
      const spec = { source: { type: 'generate', config: {} }, sink: { type: 'stdout', config: {} } };
      const commands: unknown[] = [{ v: 1, type: 'cluster.init', id: 'c1', at: 0 }];
      for (let i = 0; i < 700; i++) commands.push({ v: 1, type: 'pipeline.create', name: `p-${String(i).padStart(4, '0')}`, spec, desired: 'running', at: i });
      for (let i = 0; i < 3; i++) for (let k = 0; k < 300; k++) commands.push({ v: 1, type: 'pipeline.replace', name: `p-${String(k).padStart(4, '0')}`, spec, at: i });
      await a.apply(entries(commands, 1));
      await b.restore(a.snapshot());
      const view = b.view();
      expect(view.pipelines()).toHaveLength(700);
      expect(view.versions('p-0299').map((v) => v.version)).toEqual([1, 2, 3, 4]);
      expect(dump(view)).toEqual(dump(a.view()));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('round-trips records of every keyspace through the format, the reserved ones included', async () => {
    const entryArb: fc.Arbitrary<SnapshotEntry> = fc.record({
      keyspace: fc.constantFrom(...SNAPSHOT_KEYSPACES),
      key: fc.oneof(fc.string({ minLength: 1 }), fc.tuple(fc.string(), fc.nat())),
      value: fc.uint8Array({ maxLength: 300 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(entryArb, { maxLength: 60 }), fc.integer({ min: 1, max: 500 }), async (records, chunk) => {
        const header = { format: 1, appliedIndex: 9, appliedTerm: 2, clusterId: 'c1' };
        const bytes = await collect(encodeSnapshot(header, records, chunk));
        const seen: SnapshotEntry[] = [];
        const result = await readSnapshot(chunked(bytes, chunk), (batch) => void seen.push(...batch));
        expect(result).toEqual({ header, count: records.length });
        expect(seen.map((e) => [e.keyspace, e.key, Buffer.from(e.value)])).toEqual(records.map((e) => [e.keyspace, e.key, Buffer.from(e.value)]));
      }),
      { numRuns: 100, seed: 1011 },
    );
  });

  it('records the Raft index it was installed at as applied, and leaves one generation on disk', async () => {
    const a = await openFsm(`${dir.path}/a`);
    const b = await openFsm(`${dir.path}/b`);
    try {
      await a.apply(entries([{ v: 1, type: 'cluster.init', id: 'c1', at: 0 }], 4, 2));
      await b.restore(a.snapshot(), { index: 9, term: 3 });
      expect(b.applied()).toEqual({ index: 9, term: 3 });
      expect((await readdir(`${dir.path}/b`)).sort()).toEqual(['CURRENT', 'state-2']);
      await expect(b.restore(a.snapshot(), { index: 3, term: 2 })).rejects.toThrow(/past the index 3/);
      expect(b.applied()).toEqual({ index: 9, term: 3 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses a snapshot of another cluster', async () => {
    const a = await openFsm(`${dir.path}/a`);
    const b = await openFsm(`${dir.path}/b`);
    try {
      await a.apply(entries([{ v: 1, type: 'cluster.init', id: 'c1', at: 0 }], 1));
      await b.apply(entries([{ v: 1, type: 'cluster.init', id: 'c2', at: 0 }], 1));
      await expect(b.restore(a.snapshot())).rejects.toMatchObject({ code: 'CONFLICT', message: expect.stringMatching(/cluster 'c1'.*'c2'/) });
      expect(b.view().cluster()?.id).toBe('c2');
      expect((await readdir(`${dir.path}/b`)).sort()).toEqual(['CURRENT', 'state-1']);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('applying', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await dir.remove();
  });

  it('a rejected command changes nothing but the applied index', async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(history, fc.array(validCommand, { minLength: 1, maxLength: 20 }), async (start, more) => {
        const fsm = await openFsm(`${dir.path}/r${round++}`);
        try {
          await fsm.apply(entries(start, 1));
          let index = start.length + 1;
          for (const command of more) {
            const before = dump(fsm.view()) as object;
            const [result] = await fsm.apply(entries([command], index, 4));
            if (result!.status === 'rejected') expect(dump(fsm.view())).toEqual({ ...before, applied: { index, term: 4 } });
            else expect(result!.status).toBe('applied');
            index++;
          }
        } finally {
          await fsm.close();
        }
      }),
      { numRuns: RUNS, seed: 1012 },
    );
  });

  it('is a function of (state, entries): two state machines fed the same entries hold the same state', async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(history, fc.integer({ min: 1, max: 5 }), async (commands, split) => {
        const a = await openFsm(`${dir.path}/x${round}`);
        const b = await openFsm(`${dir.path}/y${round++}`);
        try {
          const list = entries(commands, 1);
          const ra = await a.apply(list);
          // b gets them in batches of `split`: batching must not matter.
          const rb = [];
          for (let i = 0; i < list.length; i += split) rb.push(...(await b.apply(list.slice(i, i + split))));
          expect(rb).toEqual(ra);
          expect(dump(b.view())).toEqual(dump(a.view()));
        } finally {
          await a.close();
          await b.close();
        }
      }),
      { numRuns: RUNS, seed: 1013 },
    );
  });

  it('survives a restart: reopening serves the same state, and entries applied before are skipped', async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(history, fc.nat(), async (commands, cut) => {
        const path = `${dir.path}/restart-${round++}`;
        const list = entries(commands, 1, 2);
        const upTo = commands.length === 0 ? 0 : cut % (commands.length + 1);
        let fsm = await openFsm(path);
        await fsm.apply(list.slice(0, upTo));
        const before = dump(fsm.view());
        await fsm.close();
        fsm = await ClusterStateMachine.open({ dir: path });
        try {
          expect(dump(fsm.view())).toEqual(before);
          expect(fsm.appliedIndex()).toBe(upTo);
          // Raft hands over everything again from the start: the first `upTo` are skipped, the rest applied once.
          const results = await fsm.apply(list);
          expect(results.slice(0, upTo).every((r) => r.status === 'skipped')).toBe(true);
          expect(results.slice(upTo).every((r) => r.status !== 'skipped')).toBe(true);
          const reference = await openFsm(`${path}-ref`);
          await reference.apply(list);
          expect(dump(fsm.view())).toEqual(dump(reference.view()));
          await reference.close();
        } finally {
          await fsm.close();
        }
      }),
      { numRuns: RUNS, seed: 1014 },
    );
  });
});
