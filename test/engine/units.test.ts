import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AckTracker } from '../../src/engine/ack-tracker.js';
import { backoffDelay, isRetryable, RetryExhausted, withRetry } from '../../src/engine/retry.js';
import { RateLimiter } from '../../src/engine/rate-limiter.js';
import { LaneQueue } from '../../src/engine/lane-queue.js';
import { laneOfKey, partition } from '../../src/engine/partition.js';
import { decodeBatch, encodeBatch } from '../../src/engine/batch-codec.js';
import { Serial } from '../../src/engine/serial.js';
import { WireError } from '../../src/core/errors.js';
import { WireRecord } from '../../src/core/record.js';
import { VirtualClock, nonRetryable } from './fakes.js';

describe('AckTracker', () => {
  it('acks the highest contiguous completed batch, and says when the sinks hold exactly that prefix, whatever the completion order (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 16 }), fc.integer(), (parts, seed) => {
        const tracker = new AckTracker(16);
        const pending: number[] = [];
        parts.forEach((p, i) => {
          const seq = tracker.begin(i * 10, p, 0);
          for (let k = 0; k < p; k++) pending.push(seq);
        });
        let rnd = seed;
        const done = new Map<number, number>();
        while (pending.length > 0) {
          rnd = (Math.imul(rnd, 1103515245) + 12345) | 0;
          const [seq] = pending.splice(Math.abs(rnd) % pending.length, 1);
          tracker.complete(seq!);
          done.set(seq!, (done.get(seq!) ?? 0) + 1);
          let expected = -1;
          while (expected + 1 < parts.length && done.get(expected + 1) === parts[expected + 1]) expected++;
          expect(tracker.completedThrough).toBe(expected);
          expect(tracker.ackablePosition()).toEqual(expected < 0 ? undefined : { position: expected * 10 });
          // Exact: no part of a batch past the contiguous prefix is written (a split batch half done counts).
          expect(tracker.exact).toBe([...done.keys()].every((s) => s <= expected));
          expect(tracker.highestWrittenSeq).toBe(Math.max(...done.keys()));
        }
        expect(tracker.inFlight).toBe(0);
        expect(tracker.exact).toBe(true);
      }),
      { seed: 42, numRuns: 200 },
    );
  });

  it('refuses more batches than its window and a part completed twice', () => {
    const tracker = new AckTracker(2);
    tracker.begin(1, 1, 0);
    tracker.begin(2, 1, 0);
    expect(tracker.full).toBe(true);
    expect(() => tracker.begin(3, 1, 0)).toThrow(/window/);
    tracker.complete(0);
    expect(() => tracker.complete(0)).toThrow(/twice/);
  });

  it('keeps the last known position when a batch carries none', () => {
    const tracker = new AckTracker(4);
    tracker.complete(tracker.begin(7, 1, 0));
    tracker.complete(tracker.begin(undefined, 1, 0));
    expect(tracker.ackablePosition()).toEqual({ position: 7 });
    expect(tracker.completedThrough).toBe(1);
  });
});

describe('retry', () => {
  it('grows the backoff ceiling exponentially up to the maximum (full jitter)', () => {
    const spec = { maxAttempts: 10, initialMs: 100, maxMs: 1_000 };
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(spec, a, () => 0.999999))).toEqual([99, 199, 399, 799, 999]);
    expect(backoffDelay(spec, 3, () => 0)).toBe(0);
  });

  it('gives up after maxAttempts with the last error and the attempt count', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const failing = withRetry(() => Promise.reject(new Error(`fail ${++calls}`)), { maxAttempts: 3, initialMs: 10, maxMs: 100 }, { clock, random: () => 0.5 });
    await expect(failing).rejects.toBeInstanceOf(RetryExhausted);
    await failing.catch((e: RetryExhausted) => {
      expect(e.attempts).toBe(3);
      expect((e.lastError as Error).message).toBe('fail 3');
    });
    expect(clock.slept).toEqual([5, 10]);
  });

  it('does not retry errors marked retryable: false', async () => {
    expect(isRetryable(nonRetryable('x'))).toBe(false);
    expect(isRetryable(new WireError('UNAVAILABLE', 'x'))).toBe(true);
    let calls = 0;
    await expect(
      withRetry(() => (calls++, Promise.reject(nonRetryable('auth'))), { maxAttempts: 5, initialMs: 1, maxMs: 1 }, { clock: new VirtualClock() }),
    ).rejects.toMatchObject({ attempts: 1 });
    expect(calls).toBe(1);
  });
});

describe('RateLimiter', () => {
  it('lets at most 1 + rate × t records pass in the t seconds after any take begins, whatever the batch sizes', async () => {
    fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ n: fc.integer({ min: 1, max: 500 }), idle: fc.integer({ min: 0, max: 300 }) }), { minLength: 1, maxLength: 50 }),
        async (takes) => {
          const clock = new VirtualClock();
          const limiter = new RateLimiter(1_000, clock);
          // For each take: when it began, and how many records had passed before it.
          const begun: { at: number; before: number }[] = [];
          let passed = 0;
          for (const { n, idle } of takes) {
            // Idle time between takes is not saved up: the bound holds from every take's start, not only the first's.
            clock.time += idle;
            begun.push({ at: clock.time, before: passed });
            await limiter.take(n);
            passed += n;
            for (const b of begun) expect(passed - b.before).toBeLessThanOrEqual(1 + (clock.time - b.at) + 1e-6);
          }
        },
      ),
      { seed: 7, numRuns: 100 },
    );
  });

  it('makes even the first batch wait for the turn of its last record', async () => {
    const clock = new VirtualClock();
    const limiter = new RateLimiter(20, clock);
    await limiter.take(200);
    // 200 records at 20/s: the first passes at once, the last 199 × 50 ms later.
    expect(clock.time).toBe(9_950);
  });

  it('slices batches into about 100 ms of records', () => {
    expect(new RateLimiter(20, new VirtualClock()).slice).toBe(2);
    expect(new RateLimiter(1, new VirtualClock()).slice).toBe(1);
    expect(new RateLimiter(50_000, new VirtualClock()).slice).toBe(5_000);
  });

  it('rejects a rate that is not positive', () => {
    expect(() => new RateLimiter(0, new VirtualClock())).toThrow(WireError);
  });
});

describe('LaneQueue', () => {
  it('hands items out in order, waits when empty, ends after close', async () => {
    const queue = new LaneQueue<number>();
    queue.push(1);
    expect(queue.take()).toBe(1);
    const waiting = queue.take();
    queue.push(2);
    expect(await waiting).toBe(2);
    for (let i = 0; i < 1_000; i++) queue.push(i);
    for (let i = 0; i < 1_000; i++) expect(queue.take()).toBe(i);
    queue.push(3);
    queue.close();
    expect(queue.take()).toBe(3);
    expect(queue.take()).toBeUndefined();
  });

  it('discard() drops queued items', () => {
    const queue = new LaneQueue<number>();
    queue.push(1);
    queue.discard();
    expect(queue.take()).toBeUndefined();
  });
});

describe('partition', () => {
  it('sends a key to the same lane every time and keyless records to the given lane', () => {
    const records = Array.from({ length: 100 }, (_, i) => {
      const r = WireRecord.fromValue({ i });
      if (i % 2 === 0) r.key = `k${i % 10}`;
      return r;
    });
    const lanes = partition(records, 4, 3);
    for (const [lane, sub] of lanes.entries()) {
      for (const r of sub ?? []) expect(r.key === undefined ? 3 : laneOfKey(r.key, 4)).toBe(lane);
    }
    expect(lanes.reduce((n, sub) => n + (sub?.length ?? 0), 0)).toBe(100);
    // The order inside a lane is the batch's order.
    for (const sub of lanes) expect((sub ?? []).map((r) => (r.value as { i: number }).i)).toEqual((sub ?? []).map((r) => (r.value as { i: number }).i).sort((a, b) => a - b));
  });
});

describe('batch codec', () => {
  it('round-trips raw JSON, changed values, string values, lines, keys, event times and headers', () => {
    const raw = WireRecord.fromRaw('{ "a" : 1 }');
    const bytes = WireRecord.fromRaw(new TextEncoder().encode('{"b":2}'));
    const changed = WireRecord.fromRaw('{"c":3}');
    changed.value = { c: 4 };
    changed.key = 'k';
    changed.eventTime = 1234;
    const text = WireRecord.fromValue('plain "string"');
    const line = WireRecord.fromText('a line, not JSON');
    line.headers = { h: 'v' };
    const emoji = WireRecord.fromRaw('{"e":"😀é"}');
    const batch = [raw, bytes, changed, text, line, emoji];
    const back = decodeBatch(encodeBatch(batch));
    expect(back.map((r) => r.text())).toEqual(batch.map((r) => r.text()));
    expect(back.map((r) => r.json())).toEqual(batch.map((r) => r.json()));
    expect(back.map((r) => r.value)).toEqual(batch.map((r) => r.value));
    expect(back.map((r) => r.key)).toEqual([undefined, undefined, 'k', undefined, undefined, undefined]);
    expect(back[2]!.eventTime).toBe(1234);
    expect(back[4]!.headers).toEqual({ h: 'v' });
    expect(back[0]!.raw).toBe('{ "a" : 1 }');
  });

  it('keeps the ids records already have, and makes none for records whose id nobody read', () => {
    const seen = WireRecord.fromRaw('{"a":1}');
    const id = seen.id;
    const given = WireRecord.fromRaw('{"b":2}');
    given.id = 'my-id';
    const unseen = WireRecord.fromRaw('{"c":3}');
    const encoded = encodeBatch([seen, given, unseen]);
    expect(encoded.ids).toEqual([id, 'my-id', null]);
    const back = decodeBatch(encoded);
    expect(back.map((r) => r.assignedId)).toEqual([id, 'my-id', undefined]);
    expect(decodeBatch(encodeBatch([unseen])).map((r) => r.assignedId)).toEqual([undefined]);
    expect(encodeBatch([unseen]).ids).toBeUndefined();
  });
});

describe('Serial', () => {
  it('runs sections one at a time and goes on after a failure', async () => {
    const serial = new Serial();
    const log: string[] = [];
    const a = serial.run(async () => {
      log.push('a start');
      await new Promise((r) => setImmediate(r));
      log.push('a end');
    });
    const b = serial.run(async () => {
      log.push('b');
      throw new Error('b failed');
    });
    const c = serial.run(async () => log.push('c'));
    await a;
    await expect(b).rejects.toThrow('b failed');
    await c;
    expect(log).toEqual(['a start', 'a end', 'b', 'c']);
    expect(serial.busy).toBe(false);
  });
});

describe('registryFromModule', () => {
  it('takes createRegistry() or transformDefinitions, and names the module otherwise', async () => {
    const { registryFromModule } = await import('../../src/engine/components.js');
    const module = await import('./fake-transforms.js');
    const fromList = registryFromModule(module, 'file:///fake.ts');
    expect(fromList.get('transform', 'scale')?.type).toBe('scale');
    expect(fromList.get('sink', 'scale')).toBeUndefined();
    expect(fromList.list('transform').length).toBe(module.transformDefinitions.length);
    const viaFactory = registryFromModule({ createRegistry: () => fromList }, 'file:///r.ts');
    expect(viaFactory).toBe(fromList);
    expect(() => registryFromModule({}, 'file:///empty.js')).toThrow(/file:\/\/\/empty.js exports neither/);
  });
});

describe('runChain', () => {
  it('isolates failing records of an async transform and keeps per-stage counts', async () => {
    const { runChain } = await import('../../src/engine/transform-chain.js');
    const asyncThrow = {
      async process(batch: WireRecord[]) {
        if (batch.some((r) => (r.value as { n: number }).n === 2)) throw new Error('two');
        return batch;
      },
    };
    const halve = { process: (batch: WireRecord[]) => batch.filter((r) => (r.value as { n: number }).n % 2 === 0) };
    const batch = [0, 1, 2, 3, 4].map((n) => WireRecord.fromValue({ n }));
    const result = await runChain([asyncThrow, halve], batch);
    expect(result.records.map((r) => (r.value as { n: number }).n)).toEqual([0, 4]);
    expect(result.rejected.map((r) => [r.stage, (r.error as Error).message])).toEqual([[0, 'two']]);
    expect(result.counts).toEqual([5, 4, 1, 4, 2, 0]);
  });
});
