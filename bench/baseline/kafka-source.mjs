// Hand-written Kafka consumer, the baseline of the `kafka-source` bench row:
// node kafka-source.mjs BROKERS(JSON) TOPIC GROUP RECORDS. As Wire's source does, it fetches from every partition's
// leader at once (no group membership, 1 MiB per fetch round) and commits the offsets it read to GROUP, here after
// every round, until RECORDS are read. Timed from importing the client (as Wire's run loads it) to the last commit;
// prints {"seconds","records"}.
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const [, , brokers, topic, group, wanted] = process.argv;
const FETCH_MAX_BYTES = 1_048_576;
const started = performance.now();
const { Consumer } = await import('@platformatic/kafka');
const consumer = new Consumer({ clientId: `bench-${group}`, bootstrapBrokers: JSON.parse(brokers), groupId: group, maxWaitTime: 500, maxBytes: FETCH_MAX_BYTES, minBytes: 1 });
// Commits outside the group's membership, as the source does.
consumer.generationId = -1;
consumer.memberId = '';
const metadata = await consumer.metadata({ topics: [topic], autocreateTopics: false });
const described = metadata.topics.get(topic);
const starts = (await consumer.listOffsets({ topics: [topic], timestamp: -2n })).get(topic);
const fetchAt = new Map(starts.map((offset, partition) => [partition, offset]));
const byLeader = new Map();
for (let partition = 0; partition < described.partitionsCount; partition++) {
  const leader = described.partitions[partition].leader;
  byLeader.set(leader, [...(byLeader.get(leader) ?? []), partition]);
}
const perPartition = Math.floor(FETCH_MAX_BYTES / described.partitionsCount);
let records = 0;
while (records < Number(wanted)) {
  const responses = await Promise.all(
    [...byLeader].map(([node, led]) =>
      consumer.fetch({
        node,
        topics: [{ topicId: described.id, partitions: led.map((partition) => ({ partition, fetchOffset: fetchAt.get(partition), partitionMaxBytes: perPartition, currentLeaderEpoch: -1, lastFetchedEpoch: -1 })) }],
      }),
    ),
  );
  for (const response of responses) {
    for (const { partitionIndex: partition, records: batches } of response.responses[0]?.partitions ?? []) {
      const from = fetchAt.get(partition);
      let next = from;
      for (const batch of batches ?? []) {
        for (const r of batch.records) if (batch.firstOffset + BigInt(r.offsetDelta) >= from && r.value !== null) records++;
        const end = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
        if (end > next) next = end;
      }
      fetchAt.set(partition, next);
    }
  }
  await consumer.commit({ offsets: [...fetchAt].map(([partition, offset]) => ({ topic, partition, offset, leaderEpoch: -1 })) });
}
const seconds = (performance.now() - started) / 1000;
await consumer.close();
process.stdout.write(JSON.stringify({ seconds, records }) + '\n');
