import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Entry, HardState } from '../../../src/raft/core/types.js';
import { WalStore, type WalStoreOptions } from '../../../src/raft/storage/wal-store.js';
import { entry, range, segmentFiles, text, walFixture } from './wal-files.js';

// ~25-byte records: a segment of 120 bytes holds its header and a handful of entries.
const SMALL: WalStoreOptions = { segmentBytes: 120, preallocateBytes: 0, cacheEntries: 3 };

describe('WAL segments', () => {
  const wal = walFixture(SMALL);
  const { reopen } = wal;

  it('rotates at the segment size and reads entries from every segment after a reopen', async () => {
    const log = await reopen();
    for (let i = 1; i <= 40; i++) await log.append([entry(i, 1 + Math.floor(i / 10))]);
    const files = await segmentFiles(wal.dir);
    expect(files.length).toBeGreaterThan(5);
    expect(log.stats().segments).toBe(files.length);
    const again = await reopen();
    expect(again.entries(1, 41).map(text)).toEqual(range(1, 40, 1).map(text));
    expect(again.term(9)).toBe(1);
    expect(again.term(35)).toBe(4);
  });

  it('deletes the segments holding only compacted entries once the compaction is durable', async () => {
    const log = await reopen();
    await log.saveHardState({ term: 3, vote: 'n2', commit: 0 });
    for (let i = 1; i <= 40; i++) await log.append([entry(i, 3)]);
    await log.saveHardState({ term: 3, vote: 'n2', commit: 40 });
    const before = (await segmentFiles(wal.dir)).length;
    await log.compact(30, 3);
    const after = await segmentFiles(wal.dir);
    expect(after.length).toBeLessThan(before - 3);
    expect(log.stats().segments).toBe(after.length);
    const again = await reopen();
    expect([again.firstIndex(), again.lastIndex(), again.term(30)]).toEqual([31, 40, 3]);
    expect(again.entries(31, 41).map(text)).toEqual(range(31, 40, 3).map(text));
    expect(again.loadHardState()).toEqual<HardState>({ term: 3, vote: 'n2', commit: 40 });
  });

  it('keeps only the active segment after a reset', async () => {
    const log = await reopen();
    for (let i = 1; i <= 20; i++) await log.append([entry(i, 1)]);
    await log.reset(500, 4);
    expect(await segmentFiles(wal.dir)).toHaveLength(1);
    const again = await reopen();
    expect([again.firstIndex(), again.lastIndex(), again.term(500)]).toEqual([501, 500, 4]);
  });

  it('replays from a kept segment whose base predates entries rewritten after it started', async () => {
    const log = await reopen();
    for (let i = 1; i <= 30; i++) await log.append([entry(i, 1)]);
    // Rewrite from 20 (held by older segments) in the newest segments, then compact past it.
    await log.append(range(20, 35, 2).map((e) => ({ ...e, data: new TextEncoder().encode(`r${e.index}`) })));
    await log.compact(25, 2);
    const again = await reopen();
    expect([again.firstIndex(), again.lastIndex()]).toEqual([26, 35]);
    expect(again.entries(26, 36).map(text)).toEqual(range(26, 35, 2).map((e) => `r${e.index}`));
  });

  it('behaves like an array of entries plus a hard state, whatever the writes, batches and reopens', async () => {
    type Op =
      | { kind: 'append'; at: number; count: number; termBump: number }
      | { kind: 'compact'; to: number }
      | { kind: 'reset'; gap: number }
      | { kind: 'hardState'; sync: boolean }
      | { kind: 'reopen' };
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('append' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 6 }), termBump: fc.nat(1) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), to: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const), gap: fc.nat(5) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('hardState' as const), sync: fc.boolean() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const) }) },
    );
    // Ops in one inner array are issued in one turn (one batch); batches run one after another.
    const batches = fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { maxLength: 14 });
    const base = wal.dir;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(batches, fc.constantFrom(0, 64), async (plan, preallocateBytes) => {
        const options: WalStoreOptions = { ...SMALL, preallocateBytes };
        const dir = join(base, `run-${run++}`);
        let log = await WalStore.open(dir, options);
        let snap = { index: 0, term: 0 };
        let model: Entry[] = [];
        let hs: HardState = { term: 0, vote: null, commit: 0 };
        const lastTerm = (): number => model.at(-1)?.term ?? snap.term;
        // Commit-only hard states (`sync: false`) settle with a later synced write or at close.
        const held: Promise<void>[] = [];
        try {
          for (const ops of plan) {
            const writes: Promise<void>[] = [];
            for (const o of ops) {
              if (o.kind === 'append') {
                const at = snap.index + 1 + (o.at % (model.length + 1));
                const prev = at - 1 === snap.index ? snap.term : model[at - 2 - snap.index]!.term;
                const term = Math.max(prev, 1) + o.termBump;
                const entries = Array.from({ length: o.count }, (_, i) => entry(at + i, term, `t${term}-${at + i}`));
                model = [...model.slice(0, at - 1 - snap.index), ...entries];
                writes.push(log.append(entries));
              } else if (o.kind === 'compact' && model.length > 1) {
                const to = snap.index + 1 + (o.to % (model.length - 1));
                const term = model[to - 1 - snap.index]!.term;
                model = model.slice(to - snap.index);
                snap = { index: to, term };
                writes.push(log.compact(to, term));
              } else if (o.kind === 'reset') {
                snap = { index: snap.index + model.length + o.gap, term: lastTerm() + 1 };
                model = [];
                writes.push(log.reset(snap.index, snap.term));
              } else if (o.kind === 'hardState') {
                hs = { term: hs.term + 1, vote: hs.vote === 'a' ? null : 'a', commit: snap.index + model.length };
                (o.sync ? writes : held).push(log.saveHardState(hs, { sync: o.sync }));
              }
            }
            await Promise.all(writes);
            if (ops.some((o) => o.kind === 'reopen')) {
              await log.close();
              log = await WalStore.open(dir, options);
            }
            expect([log.firstIndex(), log.lastIndex(), log.term(snap.index)]).toEqual([snap.index + 1, snap.index + model.length, snap.term]);
            expect(log.entries(snap.index + 1, snap.index + model.length + 1).map(text)).toEqual(model.map(text));
            expect(model.every((e) => log.term(e.index) === e.term)).toBe(true);
            expect(log.loadHardState()).toEqual(hs);
          }
          await log.close();
          await Promise.all(held);
          log = await WalStore.open(dir, options);
          expect(log.openReport.truncated).toBe(0);
          expect(log.entries(snap.index + 1, snap.index + model.length + 1).map(text)).toEqual(model.map(text));
          expect(log.loadHardState()).toEqual(hs);
        } finally {
          await log.close();
          await rm(dir, { recursive: true, force: true });
        }
      }),
      { seed: 2026, numRuns: 40 },
    );
  });
});
