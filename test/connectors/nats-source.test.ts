// The nats source's acknowledgements against a real nats-server: a message leaves the consumer's pending set only
// when `ack` (the engine, once its checkpoint covers it) says so, and a restart resumes right after its checkpoint,
// whatever the consumer had delivered.
import type { NatsConnection } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { Batch } from '../../src/core/record.js';
import { NatsSource, natsSourceDefinition } from '../../src/connectors/nats/source.js';
import { natsAvailable, startNats, type NatsServer } from '../harness/nats.js';
import { ackPending, createStream, fillStream } from './nats-records.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const nats = natsAvailable();
let server: NatsServer | undefined;
let client: NatsConnection | undefined;
const opened: NatsSource[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
  await client?.close();
  client = undefined;
  await server?.stop();
  server = undefined;
});

async function source(from?: number, config: Record<string, unknown> = {}): Promise<NatsSource> {
  const s = natsSourceDefinition.create({ url: server!.url, stream: 'IN', durable: 'c', ...config }) as NatsSource;
  opened.push(s);
  await s.open({ pipeline: 'p', component: 'source', dataDir: '/nonexistent', signal: new AbortController().signal, from });
  return s;
}

/** Reads batches until `count` records came. */
async function take(s: NatsSource, max: number, count: number): Promise<Batch> {
  const records: Batch = [];
  for await (const batch of s.read(max)) {
    records.push(...batch);
    if (records.length >= count) return records;
  }
  throw new Error('the source ended early');
}

const ns = (batch: Batch): number[] => batch.map((r) => (r.value as { n: number }).n);

async function setup(): Promise<void> {
  server = await startNats();
  const { connect } = await import('@nats-io/transport-node');
  client = await connect({ servers: server.url });
  await createStream(client, 'IN', ['in.>']);
  await fillStream(client, 'IN', 'in.x', 0, 100);
}

describe.skipIf(!nats.available)(nats.available ? 'nats source acknowledgements' : `nats source (skipped: ${nats.skipReason})`, () => {
  it('acks a message only once ack covers its position, and then every message up to it', { timeout: 60_000 }, async () => {
    await setup();
    const s = await source();
    const batch = await take(s, 40, 40);
    expect(ns(batch.slice(0, 40))).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(await ackPending(client!, 'IN', 'c')).toBeGreaterThanOrEqual(40);
    const pendingBefore = await ackPending(client!, 'IN', 'c');
    await s.ack(batch[9]!.position!);
    expect(await ackPending(client!, 'IN', 'c')).toBe(pendingBefore - 10);
    await s.ack(batch[39]!.position!);
    expect(await ackPending(client!, 'IN', 'c')).toBe(pendingBefore - 40);
  });

  it('a restart reads on right after its checkpoint, though the consumer had delivered more', { timeout: 60_000 }, async () => {
    await setup();
    const crashed = await source();
    const delivered = await take(crashed, 30, 30);
    await crashed.close();
    // The checkpoint covered the first 10 records; the crash came before their ack.
    const restarted = await source(delivered[9]!.position as number);
    const again = await take(restarted, 1000, 90);
    expect(ns(again)).toEqual(Array.from({ length: 90 }, (_, i) => 10 + i));
    expect(again[0]!.key).toBe('in.x');
  });

  it('a message that is not JSON becomes an unreadable record (for the dead letter), not a failure', { timeout: 60_000 }, async () => {
    await setup();
    client!.publish('in.x', 'not json');
    await client!.flush();
    const s = await source(100);
    const [record] = await take(s, 10, 1);
    expect(record!.unreadable?.code).toBe('INVALID_INPUT');
    expect(record!.position).toBe(101);
  });

  it('asks for a prompt checkpoint once it handed over the last message pending on the consumer, not before', { timeout: 60_000 }, async () => {
    await setup();
    const s = await source();
    const batches = s.read(40)[Symbol.asyncIterator]();
    let seen = 0;
    while (seen < 100) {
      const next = await batches.next();
      if (next.done === true) throw new Error('the source ended early');
      seen += next.value.length;
      // Messages are still pending on the consumer until the last of the 100 has been handed over.
      expect(s.awaitingAck()).toBe(seen === 100);
    }
    await batches.return?.();
  });

  it('fills a batch toward the batch size while the stream holds more, across the reads the pull arrives in', { timeout: 60_000 }, async () => {
    await setup();
    await fillStream(client!, 'IN', 'in.x', 100, 4100);
    const s = await source();
    const sizes: number[] = [];
    let seen = 0;
    for await (const batch of s.read(1024)) {
      sizes.push(batch.length);
      seen += batch.length;
      if (seen >= 4100) break;
    }
    // A pull of 1024 messages (~230 KB) comes in several socket reads: a batch that went as soon as the client had
    // nothing more buffered would never hold the whole pull.
    expect(sizes).toContain(1024);
    expect(seen).toBe(4100);
  });

  it('reads ahead of the engine by a few batches at most, however much the stream holds', { timeout: 60_000 }, async () => {
    await setup();
    await fillStream(client!, 'IN', 'in.x', 100, 5000);
    const s = await source();
    const batches = s.read(100)[Symbol.asyncIterator]();
    const first = await batches.next();
    expect(first.done).toBe(false);
    // The engine holds on to its batch: the pull asks for more only while no complete batch waits unread.
    await sleep(500);
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const info = await (await jetstreamManager(client!)).consumers.info('IN', 'c');
    expect(info.delivered.consumer_seq).toBeGreaterThanOrEqual(100);
    expect(info.delivered.consumer_seq).toBeLessThanOrEqual(400);
    await batches.return?.();
  });

  it('asks for a prompt checkpoint once half of max_ack_pending is read and unacknowledged, so the server never waits on the periodic one', { timeout: 60_000 }, async () => {
    await setup();
    await fillStream(client!, 'IN', 'in.x', 100, 1000);
    const s = await source(undefined, { max_ack_pending: 100 });
    const batches = s.read(10)[Symbol.asyncIterator]();
    let seen = 0;
    while (seen < 100) {
      const next = await batches.next();
      if (next.done === true) throw new Error('the source ended early');
      seen += next.value.length;
      expect(s.awaitingAck()).toBe(seen >= 50);
      if (seen === 70) {
        await s.ack(next.value[next.value.length - 1]!.position!);
        // 70 acknowledged: none left unacknowledged, and more pending on the consumer.
        expect(s.awaitingAck()).toBe(false);
        break;
      }
    }
    await batches.return?.();
  });

  it('a consumer deleted under a pull is created again after the last message read: nothing is lost or read twice', { timeout: 60_000 }, async () => {
    await setup();
    await fillStream(client!, 'IN', 'in.x', 100, 2000);
    const s = await source();
    const batches = s.read(40)[Symbol.asyncIterator]();
    const read: number[] = [];
    const first = await batches.next();
    if (first.done === true) throw new Error('the source ended early');
    read.push(...ns(first.value));
    const { jetstreamManager } = await import('@nats-io/jetstream');
    await (await jetstreamManager(client!)).consumers.delete('IN', 'c');
    const deadline = Date.now() + 30_000;
    while (read.length < 2000 && Date.now() < deadline) {
      const next = await batches.next();
      if (next.done === true) throw new Error('the source ended early');
      read.push(...ns(next.value));
    }
    expect(read).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    await batches.return?.();
  });

  it('hands on what max_ack_pending let the server deliver, short of a batch, without waiting for more', { timeout: 60_000 }, async () => {
    await setup();
    const s = await source(undefined, { max_ack_pending: 50 });
    const batches = s.read(1024)[Symbol.asyncIterator]();
    // The server delivers 50 and waits for an ack; the pull's fetch would end only at its expiry (5 s).
    const first = await Promise.race([batches.next(), sleep(3000).then(() => 'late' as const)]);
    expect(first).not.toBe('late');
    const batch = (first as IteratorResult<Batch>).value as Batch;
    expect(ns(batch)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(s.awaitingAck()).toBe(true);
    await batches.return?.();
  });

  it('a server that refuses every fetch fails the run after reconnect_attempts, instead of making the consumer again for ever', { timeout: 60_000 }, async () => {
    await setup();
    const s = await source(undefined, { reconnect_attempts: 2, reconnect_max_delay: 10 });
    const consumer = (s as unknown as { consumer: { fetch: (...args: unknown[]) => Promise<unknown> } }).consumer;
    const prototype = Object.getPrototypeOf(consumer) as { fetch: (...args: unknown[]) => Promise<unknown> };
    const fetch = prototype.fetch;
    let fetches = 0;
    prototype.fetch = () => {
      fetches++;
      return Promise.reject(new Error('refused'));
    };
    try {
      await expect(take(s, 40, 40)).rejects.toThrow(/pulling from IN.*refused/);
      expect(fetches).toBe(3);
    } finally {
      prototype.fetch = fetch;
    }
  });
});
