// The kafka sink against the Kafka-protocol test server (test/harness/kafka.ts): what a resolved write left in the
// topic (values, keys, headers, timestamps' presence), the partition a key goes to, and the error when no broker answers.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RecordsRefused } from '../../src/core/errors.js';
import { KafkaSink, kafkaSinkDefinition } from '../../src/connectors/kafka/sink.js';
import { WireRecord } from '../../src/core/record.js';
import { kafkaAvailable, startKafka, type KafkaServer } from '../harness/kafka.js';
import { readTopic } from './kafka-records.js';

const kafka = await kafkaAvailable();
let server: KafkaServer | undefined;

beforeAll(async () => {
  if (kafka.available) server = await startKafka(kafka.binary, { topics: { plain: 1, keyed: 3, sized: 2 } });
});
afterAll(async () => {
  await server?.stop();
});

async function sink(config: Record<string, unknown>): Promise<KafkaSink> {
  const s = kafkaSinkDefinition.create({ brokers: server?.brokers ?? ['127.0.0.1:1'], ...config }) as KafkaSink;
  await s.open({ pipeline: 'p', component: 'sink', dataDir: '/nonexistent', signal: new AbortController().signal });
  return s;
}

function record(value: unknown, key?: string, headers?: Record<string, string>): WireRecord {
  const r = WireRecord.fromValue(value);
  r.key = key;
  r.headers = headers;
  return r;
}

describe.skipIf(!kafka.available)(kafka.available ? 'kafka sink' : `kafka sink (skipped: ${kafka.skipReason})`, () => {
  it('sends a batch in requests of at most max_message_bytes, in order; a record too large alone is refused, the rest produced', async () => {
    const s = await sink({ topic: 'sized', max_message_bytes: 4096 });
    // Brokers refuse a record batch over the topic's max.message.bytes: count the produce requests the write makes.
    const send = vi.spyOn((s as unknown as { producer: { send: (...args: unknown[]) => unknown } }).producer, 'send');
    try {
      const batch = Array.from({ length: 12 }, (_, n) => record({ n, pad: 'p'.repeat(1000) }, `k${n % 3}`));
      batch.splice(5, 0, record({ n: 'big', pad: 'b'.repeat(5000) }, 'k0'));
      const error = await s.write(batch).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RecordsRefused);
      expect((error as RecordsRefused).records.map((r) => (r.value as { n: unknown }).n)).toEqual(['big']);
      expect((error as RecordsRefused).message).toMatch(/larger than max_message_bytes \(4096\) for topic sized/);
      // 12 records of ~1 KB: three fit in 4 KiB with their overhead, so four requests, each under the limit.
      expect(send).toHaveBeenCalledTimes(4);
      for (const [request] of send.mock.calls) {
        const { messages } = request as { messages: { value: Buffer; key: string }[] };
        expect(messages.reduce((sum, m) => sum + m.value.length + m.key.length + 21, 61)).toBeLessThanOrEqual(4096);
      }
      const read = (await readTopic(server!.bootstrap, 'sized')).map((m) => ({ key: m.key, n: (JSON.parse(m.value) as { n: number }).n }));
      expect(read.map((m) => m.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, n) => n));
      // One key, one partition, in the order of the batch across the requests.
      for (const key of ['k0', 'k1', 'k2']) expect(read.filter((m) => m.key === key).map((m) => m.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].filter((n) => `k${n % 3}` === key));
    } finally {
      await s.close();
    }
  });

  it('a resolved write is in the topic: each value as JSON, with its record key and headers', async () => {
    const s = await sink({ topic: 'plain' });
    try {
      await s.write([record({ n: 1 }, 'a', { trace: 't1' }), record({ n: 2 }), WireRecord.fromRaw('{"raw": true}')]);
      expect(await readTopic(server!.bootstrap, 'plain')).toEqual([
        { value: '{"n":1}', key: 'a', headers: { trace: 't1' } },
        { value: '{"n":2}', key: undefined, headers: {} },
        { value: '{"raw": true}', key: undefined, headers: {} },
      ]);
    } finally {
      await s.close();
    }
  });

  it("a key goes to the partition Java's producer picks (positive murmur2 modulo the partitions)", async () => {
    const { murmur2 } = await import('@platformatic/kafka');
    const keys = Array.from({ length: 60 }, (_, i) => `user-${i}`);
    const java = (key: string): number => (murmur2(Buffer.from(key)) & 0x7fffffff) % 3;
    // Some keys land elsewhere when the hash is taken as unsigned instead: those are the ones this checks.
    expect(keys.some((key) => (murmur2(Buffer.from(key)) >>> 0) % 3 !== java(key))).toBe(true);
    const s = await sink({ topic: 'keyed' });
    try {
      await s.write(keys.map((key, i) => record({ i }, key)));
    } finally {
      await s.close();
    }
    const { Consumer } = await import('@platformatic/kafka');
    const consumer = new Consumer({ clientId: 'ends', bootstrapBrokers: [...server!.brokers], groupId: 'ends' });
    try {
      const ends = (await consumer.listOffsets({ topics: ['keyed'], timestamp: -1n })).get('keyed')!.map(Number);
      const expected = [0, 1, 2].map((p) => keys.filter((key) => java(key) === p).length);
      expect(ends).toEqual(expected);
    } finally {
      await consumer.close();
    }
  });
});

describe('kafka sink without brokers', () => {
  it('a write fails with UNAVAILABLE naming the brokers once its retries are spent (at least 2, never forever)', { timeout: 30_000 }, async () => {
    // 1 retry asked: the idempotent producer's client would retry forever, the sink makes it 2.
    const s = kafkaSinkDefinition.create({ brokers: ['127.0.0.1:1'], topic: 't', reconnect_attempts: 1, reconnect_max_delay: 10 }) as KafkaSink;
    await s.open({ pipeline: 'p', component: 'sink', dataDir: '/nonexistent', signal: new AbortController().signal });
    try {
      await expect(s.write([record({ n: 1 })])).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringContaining('kafka at 127.0.0.1:1: produce to topic t failed after 2 retries') });
    } finally {
      await s.close();
    }
  });
});
