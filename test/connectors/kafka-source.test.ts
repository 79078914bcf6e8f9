// The kafka source against the Kafka-protocol test server (test/harness/kafka.ts): what it reads, where it starts,
// that its offsets reach the group only once a checkpoint took them, and that a checkpoint resumes exactly.
import type { Producer } from '@platformatic/kafka';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KafkaSource, kafkaSourceDefinition } from '../../src/connectors/kafka/source.js';
import { partitionsOf } from '../../src/connectors/partitions.js';
import type { Batch, Position } from '../../src/core/record.js';
import { kafkaAvailable, startKafka, type KafkaServer } from '../harness/kafka.js';
import { committedOffsets, payloadOf, produceRange, producerFor } from './kafka-records.js';

const kafka = await kafkaAvailable();
let server: KafkaServer | undefined;
let producer: Producer<string, string, string, string> | undefined;
const opened: KafkaSource[] = [];
let topics = 0;

beforeAll(async () => {
  if (!kafka.available) return;
  server = await startKafka(kafka.binary);
  producer = await producerFor(server.bootstrap);
});
afterAll(async () => {
  await producer?.close();
  await server?.stop();
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

/** A new topic of `partitions` partitions holding records 0..count-1. */
async function topicWith(count: number, partitions = 4): Promise<string> {
  const topic = `t${++topics}`;
  await server!.createTopic(topic, partitions);
  await produceRange(producer!, topic, 0, count);
  return topic;
}

async function open(config: Record<string, unknown>, from?: Position): Promise<KafkaSource> {
  const source = kafkaSourceDefinition.create({ brokers: server!.brokers, fetch_max_wait: 50, ...config }) as KafkaSource;
  opened.push(source);
  await source.open({ pipeline: 'p', component: 'source', dataDir: '/nonexistent', signal: new AbortController().signal, from });
  return source;
}

/** Reads batches until `count` records came. */
async function take(source: KafkaSource, count: number, max = 100): Promise<Batch[]> {
  const batches: Batch[] = [];
  let got = 0;
  if (count === 0) return batches;
  for await (const batch of source.read(max)) {
    batches.push(batch);
    got += batch.length;
    if (got >= count) break;
  }
  return batches;
}

const ns = (batches: Batch[]): number[] => batches.flat().map((r) => (r.value as { n: number }).n);
const sorted = (values: number[]): number[] => [...values].sort((a, b) => a - b);
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

describe.skipIf(!kafka.available)(kafka.available ? 'kafka source' : `kafka source (skipped: ${kafka.skipReason})`, () => {
  it('reads every record of every partition once, each in offset order within its partition, with its key', async () => {
    const topic = await topicWith(1000);
    const source = await open({ topic });
    const records = (await take(source, 1000)).flat();
    expect(sorted(records.map((r) => (r.value as { n: number }).n))).toEqual(range(0, 1000));
    for (const r of records) expect(r.key).toBe(`k${(r.value as { n: number }).n % 16}`);
    expect(records.every((r) => (r.value as { payload: string }).payload === payloadOf((r.value as { n: number }).n))).toBe(true);
    const byPartition = new Map<number, number[]>();
    for (const r of records) {
      const { partition, offset } = r.position as { partition: number; offset: number };
      byPartition.set(partition, [...(byPartition.get(partition) ?? []), offset]);
    }
    for (const offsets of byPartition.values()) expect(offsets).toEqual(range(0, offsets.length));
  });

  it('asks for a prompt checkpoint on the last batch of a fetch round that reached the end of every partition', async () => {
    const topic = await topicWith(1000, 1);
    const source = await open({ topic });
    const batches = source.read(100)[Symbol.asyncIterator]();
    const asked: boolean[] = [];
    for (let got = 0; got < 1000; ) {
      const next = await batches.next();
      if (next.done === true) throw new Error('the source ended early');
      got += next.value.length;
      asked.push(source.awaitingAck());
    }
    // One round of 1,000 records in batches of 100: only the last one leaves nothing to read.
    expect(asked).toEqual([...Array<boolean>(9).fill(false), true]);
    await produceRange(producer!, topic, 1000, 2000);
    // The first batch of the round that brings them: more are still to be handed over.
    expect((await batches.next()).value).toHaveLength(100);
    expect(source.awaitingAck()).toBe(false);
    await batches.return?.();
  });

  it('commits offsets to the group only once a checkpoint took them, and then those of the checkpointed record', async () => {
    const topic = await topicWith(400, 1);
    const source = await open({ topic, group: 'g-commit' });
    const batches = await take(source, 400);
    expect(await committedOffsets(server!.bootstrap, 'g-commit', topic, 1)).toEqual([-1]);
    // A checkpoint that ends inside a batch (a rate limit slices batches): the offset after that very record.
    const inside = batches[1]![10]!.position!;
    expect(source.checkpointPosition(inside)).toEqual({ offsets: { '0': 111 } });
    await source.ack(inside);
    expect(await committedOffsets(server!.bootstrap, 'g-commit', topic, 1)).toEqual([111]);
    const last = batches.at(-1)!.at(-1)!.position!;
    source.checkpointPosition(last);
    await source.ack(last);
    expect(await committedOffsets(server!.bootstrap, 'g-commit', topic, 1)).toEqual([400]);
  });

  it('commits while the broker holds the next fetch: the commit does not queue behind it', async () => {
    // One broker: it leads the partition and coordinates the group, so a fetch and a commit sharing a connection
    // would meet there (a broker answers a connection's requests in order).
    const single = await startKafka(kafka.binary, { brokers: 1, topics: { held: 1 } });
    const own = await producerFor(single.bootstrap);
    try {
      await produceRange(own, 'held', 0, 100);
      const source = kafkaSourceDefinition.create({ brokers: single.brokers, topic: 'held', group: 'g-held', fetch_max_wait: 60_000 }) as KafkaSource;
      opened.push(source);
      await source.open({ pipeline: 'p', component: 'source', dataDir: '/nonexistent', signal: new AbortController().signal });
      // The round after these records asks for more than there is: the broker holds it for up to a minute.
      const last = (await take(source, 100)).flat().at(-1)!.position!;
      source.checkpointPosition(last);
      const bound = new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 15 s'), 15_000).unref());
      expect(await Promise.race([source.ack(last).then(() => 'committed'), bound])).toBe('committed');
      expect(await committedOffsets(single.bootstrap, 'g-held', 'held', 1)).toEqual([100]);
    } finally {
      await Promise.all(opened.splice(0).map((s) => s.close()));
      await own.close();
      await single.stop();
    }
  }, 30_000);

  it('a checkpoint taken before the ack of the one before it: both acks commit their own offsets', async () => {
    const topic = await topicWith(300, 1);
    const source = await open({ topic, group: 'g-overlap' });
    const records = (await take(source, 300)).flat();
    const first = records[99]!.position!;
    const second = records[199]!.position!;
    expect(source.checkpointPosition(first)).toEqual({ offsets: { '0': 100 } });
    expect(source.checkpointPosition(second)).toEqual({ offsets: { '0': 200 } });
    await source.ack(first);
    expect(await committedOffsets(server!.bootstrap, 'g-overlap', topic, 1)).toEqual([100]);
    await source.ack(second);
    expect(await committedOffsets(server!.bootstrap, 'g-overlap', topic, 1)).toEqual([200]);
  });

  it('resumes each partition at its checkpointed offset: nothing before it again, nothing after it missed', async () => {
    const topic = await topicWith(800);
    const first = await open({ topic });
    const read = (await take(first, 300)).flat();
    const checkpoint = first.checkpointPosition(read.at(-1)!.position!);
    await first.close();
    const resumed = await open({ topic }, checkpoint);
    const rest = ns(await take(resumed, 800 - read.length));
    expect(sorted([...read.map((r) => (r.value as { n: number }).n), ...rest])).toEqual(range(0, 800));
  });

  it('start: latest reads only what is produced after it opened', async () => {
    const topic = await topicWith(200);
    const latest = await open({ topic, start: 'latest' });
    await produceRange(producer!, topic, 200, 300);
    expect(sorted(ns(await take(latest, 100)))).toEqual(range(200, 300));
  });

  // The test server answers every lookup by time with "no such record" (librdkafka's mock has no index by time), as
  // Kafka does for a time after the last record: only that case is checked here.
  it('start: timestamp after the last record starts at the end, and reads what comes next', async () => {
    const topic = await topicWith(200);
    const future = await open({ topic, start: 'timestamp', start_timestamp: new Date(Date.now() + 3_600_000).toISOString() });
    await produceRange(producer!, topic, 200, 210);
    expect(sorted(ns(await take(future, 10)))).toEqual(range(200, 210));
  });

  it('start_timestamp: required with start timestamp, refused without it or when it is not a time', () => {
    const check = (config: Record<string, unknown>) => kafkaSourceDefinition.check!({ brokers: ['h:1'], topic: 't', ...config });
    expect(check({ start: 'timestamp' })).toEqual([{ path: 'start_timestamp', message: 'required when start is timestamp' }]);
    expect(check({ start_timestamp: 5 })).toEqual([{ path: 'start_timestamp', message: 'only with start: timestamp' }]);
    expect(check({ start: 'timestamp', start_timestamp: 'yesterday' })[0]?.path).toBe('start_timestamp');
    expect(() => kafkaSourceDefinition.create({ brokers: ['h:1'], topic: 't', start: 'timestamp', start_timestamp: 'yesterday' })).toThrow(/start_timestamp/);
    expect(check({ start: 'timestamp', start_timestamp: '2026-01-31T12:00:00Z' })).toEqual([]);
  });

  it('partitions: reads only those given; a cluster gets one task per partition, which together read everything', async () => {
    const topic = await topicWith(400);
    const tasks = await partitionsOf({ type: 'kafka', config: { brokers: server!.brokers, topic } });
    expect(tasks.map((t) => t.id)).toEqual(['0', '1', '2', '3']);
    const all: number[] = [];
    for (const task of tasks) {
      const config = task.source.config as Record<string, unknown>;
      expect(config.partitions).toEqual([Number(task.id)]);
      const source = await open(config);
      const offsets = await committedOffsets(server!.bootstrap, 'none', topic, 4);
      expect(offsets).toEqual([-1, -1, -1, -1]);
      const ends = (await (async () => {
        const { Consumer } = await import('@platformatic/kafka');
        const c = new Consumer({ clientId: 'ends', bootstrapBrokers: [...server!.brokers], groupId: 'ends' });
        try {
          return (await c.listOffsets({ topics: [topic], timestamp: -1n })).get(topic)!;
        } finally {
          await c.close();
        }
      })())!;
      const records = (await take(source, Number(ends[Number(task.id)]!))).flat();
      expect(records.every((r) => (r.position as { partition: number }).partition === Number(task.id))).toBe(true);
      all.push(...records.map((r) => (r.value as { n: number }).n));
    }
    expect(sorted(all)).toEqual(range(0, 400));
  });

  it('a value that is not JSON becomes an unreadable record (dead letter) that keeps its bytes; format text reads it as a string', async () => {
    const topic = `t${++topics}`;
    await server!.createTopic(topic, 1);
    await producer!.send({ messages: [{ topic, value: 'not json' }, { topic, value: '{"ok":1}' }] });
    const [bad, good] = (await take(await open({ topic }), 2)).flat();
    expect(() => bad!.value).toThrow(/malformed JSON/);
    expect(good!.value).toEqual({ ok: 1 });
    const [text] = (await take(await open({ topic, format: 'text' }), 1)).flat();
    expect(text!.value).toBe('not json');
  });

  it('a topic that does not exist, or a partition it lacks, fails the open with INVALID_INPUT naming it', async () => {
    await expect(open({ topic: 'missing-topic', reconnect_attempts: 1 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    const topic = await topicWith(1, 2);
    await expect(open({ topic, partitions: [5] })).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('no partition 5') });
  });
});
