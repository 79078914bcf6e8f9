// The kafka source row of `npm run bench` (`kafka-source`): a topic of 4 partitions on the mock cluster (3 brokers)
// preloaded with N records, read by Wire (kafka → drop, until the group's committed offsets reach the end of every
// partition) beside a bare @platformatic/kafka consumer doing the same in the same run (bench/baseline/kafka-source.mjs):
// as the source does, it fetches from every partition's leader at once (no group membership, 1 MiB per fetch round)
// and commits the offsets it read to its group, here after every round.
import type { Consumer } from '@platformatic/kafka';
import { startKafka } from '../test/harness/kafka.js';
import { bareProgramSeconds, sourceRecord, wireSourceSeconds, type SourceRunOptions } from './lib/source-run.js';
import type { ConnectorRow } from './lib/wire-pipeline-run.js';

interface KafkaSourceBenchOptions extends SourceRunOptions {
  readonly repeat: number;
}

const TOPIC = 'bench';
const PARTITIONS = 4;
const FETCH_MAX_BYTES = 1_048_576;

async function consumerOf(brokers: readonly string[], group: string): Promise<Consumer> {
  const { Consumer } = await import('@platformatic/kafka');
  return new Consumer({ clientId: `bench-${group}`, bootstrapBrokers: [...brokers], groupId: group, maxWaitTime: 500, maxBytes: FETCH_MAX_BYTES, minBytes: 1 });
}

export async function benchKafkaSource(o: KafkaSourceBenchOptions, records: number, binary: string): Promise<ConnectorRow> {
  const server = await startKafka(binary, { brokers: 3, topics: { [TOPIC]: PARTITIONS } });
  try {
    const ends = await preload(server.brokers, records);
    /** The group's committed offsets are the end of every partition. */
    const acknowledged = async (checker: Consumer): Promise<boolean> => {
      const committed = await checker.listCommittedOffsets({ topics: [{ topic: TOPIC, partitions: ends.map((_, p) => p) }] });
      const offsets = committed.get(TOPIC) ?? [];
      return ends.every((end, p) => offsets[p] === end);
    };
    const wire: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < o.repeat; i++) {
      bare.push(await bareProgramSeconds(o, 'kafka-source.mjs', [JSON.stringify(server.brokers), TOPIC, `bare-${i}`, String(records)], records));
      const checker = await consumerOf(server.brokers, `wire-${i}`);
      try {
        const source = `{ type: kafka, config: { brokers: ${JSON.stringify(server.brokers)}, topic: ${TOPIC}, group: wire-${i} } }`;
        wire.push(await wireSourceSeconds(o, `kafka-source-${i}`, source, records, () => acknowledged(checker)));
      } finally {
        await checker.close();
      }
    }
    return {
      name: 'kafka-source',
      records,
      wireSeconds: wire,
      bareSeconds: bare,
      baseline: '@platformatic/kafka fetch from every leader at once, 1 MiB per round, offsets committed after each (mock cluster, 3 brokers); own process, timed from its import',
    };
  } finally {
    await server.stop();
  }
}

/** Produces the records, keyed over the partitions; the end offset of each partition. */
async function preload(brokers: readonly string[], records: number): Promise<bigint[]> {
  const { Producer, stringSerializers } = await import('@platformatic/kafka');
  const producer = new Producer({ clientId: 'bench-preload', bootstrapBrokers: [...brokers], serializers: stringSerializers, acks: -1, autocreateTopics: false });
  try {
    for (let start = 0; start < records; start += 1024) {
      const messages = [];
      for (let n = start; n < Math.min(records, start + 1024); n++) messages.push({ topic: TOPIC, key: `k${n % 16}`, value: sourceRecord(n) });
      await producer.send({ messages });
    }
  } finally {
    await producer.close();
  }
  const consumer = await consumerOf(brokers, 'bench-preload');
  try {
    const ends = (await consumer.listOffsets({ topics: [TOPIC], timestamp: -1n })).get(TOPIC)!;
    if (ends.reduce((sum, end) => sum + end, 0n) !== BigInt(records)) throw new Error('kafka-source: the topic does not hold every record');
    return ends;
  } finally {
    await consumer.close();
  }
}
