// What the kafka tests produce and read back: the numbered records of redis-records.ts (`{ n, payload }`, checked
// by content with `tally`), produced with a bare @platformatic/kafka producer, and a topic read whole.
import type { Consumer, Producer } from '@platformatic/kafka';
import { guardBrokerLookups } from '../../src/connectors/kafka/broker-guard.js';
import { payloadOf } from './redis-records.js';

export { payloadOf, tally } from './redis-records.js';

/** A bare producer (idempotent, acks all, string serializers), as a user's own code would make it. */
export async function producerFor(bootstrap: string): Promise<Producer<string, string, string, string>> {
  const { Producer, stringSerializers } = await import('@platformatic/kafka');
  // Guarded as Wire's own clients are: with a broker down, the published client can throw from a socket callback
  // (kafka-broker-guard.test.ts), which in the test process hung a producer and failed the test.
  return guardBrokerLookups(new Producer({
    clientId: 'test-producer',
    bootstrapBrokers: bootstrap.split(','),
    serializers: stringSerializers,
    idempotent: true,
    acks: -1,
    producerId: -1n,
    producerEpoch: -1,
    autocreateTopics: false,
  }));
}

/** Produces records `from..to-1` to `topic`, keyed `k<n % 16>`, in sends of 1024. */
export async function produceRange(producer: Producer<string, string, string, string>, topic: string, from: number, to: number): Promise<void> {
  for (let start = from; start < to; start += 1024) {
    const messages = [];
    for (let n = start; n < Math.min(to, start + 1024); n++) messages.push({ topic, key: `k${n % 16}`, value: JSON.stringify({ n, payload: payloadOf(n) }) });
    await producer.send({ messages });
  }
}

type Message = { value: string; key: string | undefined; headers: Record<string, string> };

/**
 * Every message value of `topic` (all partitions, from the start), with its key and headers. A read that fails (a
 * broker just brought back can refuse a ListOffsets for a moment) is tried again, up to 20 times 250 ms apart: the
 * tests that take brokers down read the topic while they come back, and the reader is not what they test.
 */
export async function readTopic(bootstrap: string, topic: string): Promise<Message[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readTopicOnce(bootstrap, topic);
    } catch (err) {
      if (attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function readTopicOnce(bootstrap: string, topic: string): Promise<Message[]> {
  const { Consumer } = await import('@platformatic/kafka');
  const consumer: Consumer = guardBrokerLookups(new Consumer({ clientId: 'test-reader', bootstrapBrokers: bootstrap.split(','), groupId: 'test-reader', maxWaitTime: 100 }));
  try {
    const metadata = await consumer.metadata({ topics: [topic] });
    const described = metadata.topics.get(topic)!;
    const ends = (await consumer.listOffsets({ topics: [topic], timestamp: -1n })).get(topic)!;
    const out: Message[] = [];
    for (let partition = 0; partition < described.partitionsCount; partition++) {
      let at = 0n;
      while (at < ends[partition]!) {
        const response = await consumer.fetch({
          node: described.partitions[partition]!.leader,
          topics: [{ topicId: described.id, partitions: [{ partition, fetchOffset: at, partitionMaxBytes: 4 << 20, currentLeaderEpoch: -1, lastFetchedEpoch: -1 }] }],
        });
        for (const batch of response.responses[0]?.partitions[0]?.records ?? []) {
          for (const r of batch.records) {
            if (batch.firstOffset + BigInt(r.offsetDelta) < at) continue;
            const headers: Record<string, string> = {};
            for (const [k, v] of r.headers) headers[k?.toString() ?? ''] = v?.toString() ?? '';
            out.push({ value: r.value?.toString() ?? 'null', key: r.key?.toString(), headers });
          }
          at = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
        }
      }
    }
    return out;
  } finally {
    await consumer.close();
  }
}

/** The offsets committed by `group` for `topic`'s partitions (-1 for none). */
export async function committedOffsets(bootstrap: string, group: string, topic: string, partitions: number): Promise<number[]> {
  const { Consumer } = await import('@platformatic/kafka');
  const consumer: Consumer = guardBrokerLookups(new Consumer({ clientId: 'test-offsets', bootstrapBrokers: bootstrap.split(','), groupId: group }));
  try {
    const committed = await consumer.listCommittedOffsets({ topics: [{ topic, partitions: Array.from({ length: partitions }, (_, i) => i) }] });
    return (committed.get(topic) ?? []).map(Number);
  } finally {
    await consumer.close();
  }
}

/** The broker id leading each partition of `topic`, as the cluster's metadata says. */
export async function partitionLeaders(bootstrap: string, topic: string): Promise<number[]> {
  const { Consumer } = await import('@platformatic/kafka');
  const consumer: Consumer = guardBrokerLookups(new Consumer({ clientId: 'test-metadata', bootstrapBrokers: bootstrap.split(','), groupId: 'test-metadata' }));
  try {
    const described = (await consumer.metadata({ topics: [topic] })).topics.get(topic)!;
    return Array.from({ length: described.partitionsCount }, (_, p) => described.partitions[p]!.leader);
  } finally {
    await consumer.close();
  }
}
