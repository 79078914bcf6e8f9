// The kafka sink against the Kafka-protocol test server (test/harness/kafka.ts): what a resolved write left in the
// topic (values, keys, headers, timestamps' presence), the partition a key goes to, and the error when no broker answers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaSink, kafkaSinkDefinition } from '../../src/connectors/kafka/sink.js';
import { WireRecord } from '../../src/core/record.js';
import { kafkaAvailable, startKafka, type KafkaServer } from '../harness/kafka.js';
import { readTopic } from './kafka-records.js';

const kafka = await kafkaAvailable();
let server: KafkaServer | undefined;

beforeAll(async () => {
  if (kafka.available) server = await startKafka(kafka.binary, { topics: { plain: 1, keyed: 3 } });
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
