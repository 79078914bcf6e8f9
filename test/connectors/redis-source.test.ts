// The redis source's acknowledgements against a real redis-server: an entry leaves the consumer group's pending
// list only when `ack` (the engine, once its checkpoint covers it) says so, and a restarted consumer reads its
// pending entries again, skipping those its checkpoint already covers.
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { Batch } from '../../src/core/record.js';
import { RedisSource, redisSourceDefinition } from '../../src/connectors/redis/source.js';
import { MemoryCheckpointStore } from '../../src/engine/memory-checkpoint-store.js';
import { runPipeline } from '../../src/engine/runner.js';
import { MemorySink, fakeRegistry, spec } from '../engine/fakes.js';
import { redisAvailable, startRedis, type RedisServer } from '../harness/redis.js';
import { fillStream } from './redis-records.js';

const redis = redisAvailable();
let server: RedisServer | undefined;
let client: Redis | undefined;
const opened: RedisSource[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  client?.disconnect();
  client = undefined;
  await server?.stop();
  server = undefined;
});

async function source(from?: string): Promise<RedisSource> {
  const s = redisSourceDefinition.create({ url: server!.url, stream: 'in', group: 'g', consumer: 'c' }) as RedisSource;
  opened.push(s);
  await s.open({ pipeline: 'p', component: 'source', dataDir: '/nonexistent', signal: new AbortController().signal, from });
  return s;
}

async function firstBatch(s: RedisSource, max: number): Promise<Batch> {
  for await (const batch of s.read(max)) return batch;
  throw new Error('the source ended without a batch');
}

const pending = async (): Promise<number> => ((await client!.xpending('in', 'g')) as [number])[0];
const ns = (batch: Batch): number[] => batch.map((r) => (r.value as { n: number }).n);

describe.skipIf(!redis.available)(redis.available ? 'redis source acknowledgements' : `redis source (skipped: ${redis.skipReason})`, () => {
  it('XACKs an entry only once ack covers its position, and then every entry up to it', { timeout: 60_000 }, async () => {
    server = await startRedis();
    const { Redis } = await import('ioredis');
    client = new Redis(server.port, '127.0.0.1');
    await fillStream(client, 'in', 0, 100);
    const s = await source();
    const batch = await firstBatch(s, 40);
    expect(ns(batch)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(await pending()).toBe(40);
    await s.ack(batch[9]!.position!);
    expect(await pending()).toBe(30);
    await s.ack(batch[39]!.position!);
    expect(await pending()).toBe(0);
  });

  it('a restarted consumer reads its pending entries first, skipping those up to its checkpoint', { timeout: 60_000 }, async () => {
    server = await startRedis();
    const { Redis } = await import('ioredis');
    client = new Redis(server.port, '127.0.0.1');
    await fillStream(client, 'in', 0, 100);
    const crashed = await source();
    const delivered = await firstBatch(crashed, 30);
    await crashed.close();
    // The checkpoint covered the first 10 records; the crash came before their XACK.
    const restarted = await source(delivered[9]!.position as string);
    const again = await firstBatch(restarted, 1000);
    expect(ns(again)).toEqual(Array.from({ length: 20 }, (_, i) => 10 + i));
    // Those the checkpoint covers are acknowledged on the spot; the re-read ones stay pending until ack.
    expect(await pending()).toBe(20);
    const next = await firstBatch(restarted, 1000);
    expect(ns(next)).toEqual(Array.from({ length: 70 }, (_, i) => 30 + i));
  });

  it('asks for a prompt checkpoint only once caught up with the stream and holding entries not yet XACKed', { timeout: 60_000 }, async () => {
    server = await startRedis();
    const { Redis } = await import('ioredis');
    client = new Redis(server.port, '127.0.0.1');
    await fillStream(client, 'in', 0, 100);
    const s = await source();
    // A full batch: more may be waiting, so the periodic checkpoint will do.
    const full = await firstBatch(s, 40);
    expect(s.awaitingAck()).toBe(false);
    const rest = await firstBatch(s, 1000);
    expect(rest).toHaveLength(60);
    expect(s.awaitingAck()).toBe(true);
    await s.ack(full[39]!.position!);
    expect(s.awaitingAck()).toBe(true);
    await s.ack(rest[59]!.position!);
    expect(s.awaitingAck()).toBe(false);
  });

  it('in a pipeline, a caught-up stream is XACKed without waiting for the periodic checkpoint', { timeout: 60_000 }, async () => {
    server = await startRedis();
    const { Redis } = await import('ioredis');
    client = new Redis(server.port, '127.0.0.1');
    // 30 full batches of 100, then one of 50: the source sees it has caught up (a read of exactly the last entries
    // does not tell, and leaves them to the periodic checkpoint).
    await fillStream(client, 'in', 0, 3050);
    const s = redisSourceDefinition.create({ url: server.url, stream: 'in', group: 'g', consumer: 'c', block: 50 }) as RedisSource;
    const sink = new MemorySink();
    const handle = runPipeline({
      spec: spec(),
      registry: fakeRegistry({ source: s, sink }),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: '/x',
      checkpoint: { everyMs: 600_000, everyRecords: 1_000_000 },
    });
    try {
      const deadline = Date.now() + 30_000;
      while (!(sink.durable === 3050 && (await pending()) === 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(sink.durable).toBe(3050);
      expect(await pending()).toBe(0);
    } finally {
      handle.stop();
      await handle.done;
    }
  });
});
