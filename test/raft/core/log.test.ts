import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RaftLog } from '../../../src/raft/core/log.js';
import { majority, quorumValue } from '../../../src/raft/core/quorum.js';
import { Inflights } from '../../../src/raft/core/progress.js';
import { ENTRY_NORMAL, type Entry } from '../../../src/raft/core/types.js';
import { MemoryLog } from './memory-log.js';

const entry = (index: number, term: number): Entry => ({ index, term, type: ENTRY_NORMAL, data: new Uint8Array(index % 7) });

/** Operations a follower's log sees: appends at some point after the commit index, persistence, commits. */
type Op =
  | { kind: 'append'; at: number; count: number; termBump: number }
  | { kind: 'take' }
  | { kind: 'persist' }
  | { kind: 'commit'; to: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), at: fc.nat(40), count: fc.integer({ min: 1, max: 5 }), termBump: fc.nat(2) }),
  fc.record({ kind: fc.constant('take' as const) }),
  fc.record({ kind: fc.constant('persist' as const) }),
  fc.record({ kind: fc.constant('commit' as const), to: fc.nat(40) }),
);

describe('RaftLog (model-based)', () => {
  it('behaves like an array of entries whatever mix of appends, truncations, in-flight writes and commits', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const storage = new MemoryLog();
        const log = new RaftLog(storage, 0, 0);
        let model: Entry[] = [];
        let commit = 0;
        let inFlight: Entry[] | null = null;
        for (const o of ops) {
          if (o.kind === 'append') {
            // Appends start anywhere after the commit index, up to the end, with terms never decreasing.
            const at = commit + 1 + (o.at % (model.length - commit + 1));
            const prevTerm = at === 1 ? 0 : model[at - 2]!.term;
            const lastTerm = model.length === 0 ? 0 : model[model.length - 1]!.term;
            const term = Math.max(prevTerm, lastTerm) + o.termBump;
            const entries = Array.from({ length: o.count }, (_, i) => entry(at + i, Math.max(term, 1)));
            log.append(entries);
            model = [...model.slice(0, at - 1), ...entries];
          } else if (o.kind === 'take') {
            // Like a Ready: the unstable tail is handed out, and appends may go on while it is written.
            if (inFlight === null && log.unstableEntries().length > 0) inFlight = [...log.unstableEntries()];
          } else if (o.kind === 'persist') {
            if (inFlight !== null) {
              storage.append(inFlight);
              const last = inFlight[inFlight.length - 1]!;
              log.stableTo(last.index, last.term);
              inFlight = null;
            }
          } else {
            const to = Math.min(o.to, model.length);
            if (to > commit) {
              log.commitTo(to);
              commit = to;
            }
          }
          expect(log.lastIndex()).toBe(model.length);
          for (const e of model) expect(log.term(e.index)).toBe(e.term);
          expect(log.term(model.length + 1)).toBeUndefined();
          if (model.length > 0) expect(log.slice(1, model.length + 1, Number.MAX_SAFE_INTEGER, 1000)).toEqual(model);
          expect(log.stableLastIndex()).toBeLessThanOrEqual(storage.lastIndex());
        }
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('never overwrites a committed entry', () => {
    const log = new RaftLog(new MemoryLog(), 0, 0);
    log.append([entry(1, 1), entry(2, 1)]);
    log.commitTo(2);
    expect(() => log.append([entry(2, 2)])).toThrow(/overwrite committed/);
    expect(() => log.commitTo(1)).toThrow(/decrease/);
    expect(() => log.append([entry(4, 2)])).toThrow(/gap/);
  });

  it('slice honours the byte limit but always returns at least one entry', () => {
    const log = new RaftLog(new MemoryLog(), 0, 0);
    log.append([1, 2, 3, 4, 5, 6].map((i) => entry(i, 1)));
    expect(log.slice(6, 7, 1, 10).map((e) => e.index)).toEqual([6]);
    const bytes = (es: Entry[]): number => es.reduce((s, e) => s + e.data.byteLength, 0);
    for (let max = 1; max < 25; max++) {
      const got = log.slice(1, 7, max, 10);
      expect(got.length === 1 || bytes(got) <= max).toBe(true);
    }
  });

  it('findConflictByTerm returns the last index whose term is at most the given term', () => {
    const log = new RaftLog(new MemoryLog(), 0, 0);
    log.append([entry(1, 1), entry(2, 1), entry(3, 3), entry(4, 3), entry(5, 5)]);
    expect(log.findConflictByTerm(5, 4)).toBe(4);
    expect(log.findConflictByTerm(5, 2)).toBe(2);
    expect(log.findConflictByTerm(4, 0)).toBe(0);
    expect(log.findConflictByTerm(9, 5)).toBe(5);
  });
});

describe('quorum and flow-control arithmetic', () => {
  it('quorumValue is the largest value reached by a majority', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(100), { minLength: 1, maxLength: 7 }), (values) => {
        const ids = values.map((_, i) => `n${i}`);
        const q = quorumValue(ids, (id) => values[Number(id.slice(1))]!);
        const reached = (v: number): number => values.filter((x) => x >= v).length;
        expect(reached(q)).toBeGreaterThanOrEqual(majority(values.length));
        expect(reached(q + 1)).toBeLessThan(majority(values.length));
      }),
      { seed: 7 },
    );
  });

  it('the inflight window is bounded and freed by acknowledgement', () => {
    const w = new Inflights(3);
    w.add(5);
    w.add(8);
    w.add(9);
    expect(w.full()).toBe(true);
    expect(() => w.add(10)).toThrow(/overflow/);
    w.freeLE(8);
    expect(w.count).toBe(1);
    expect(() => w.add(9)).toThrow(/increase/);
  });
});
