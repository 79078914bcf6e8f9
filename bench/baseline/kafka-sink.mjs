// Hand-written Kafka producer, the baseline of the `kafka-sink` bench row: node kafka-sink.mjs BROKERS_JSON TOPIC
// RECORDS. Makes the row's records (the generate source's `{ n, payload }`) and produces them with the sink's client
// settings (@platformatic/kafka, idempotent, acks from every in-sync replica), one send of 1,024 messages at a time,
// each awaited. Run in a process of its own, as each Wire run is, and timed from importing the client (as Wire's run
// loads it) to closing the producer; prints {"seconds","records"}.
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const BATCH = 1024;
const [, , brokers, topic, count] = process.argv;
const records = Number(count);
const started = performance.now();
const { Producer, stringSerializers } = await import('@platformatic/kafka');
const producer = new Producer({
  clientId: 'bench-bare',
  bootstrapBrokers: JSON.parse(brokers),
  serializers: stringSerializers,
  idempotent: true,
  acks: -1,
  producerId: -1n,
  producerEpoch: -1,
  autocreateTopics: false,
});
let written = 0;
for (let start = 0; start < records; start += BATCH) {
  const messages = [];
  for (let n = start; n < Math.min(records, start + BATCH); n++) messages.push({ topic, value: JSON.stringify({ n, payload: `p${(n * 7919) % 100_003}` }) });
  await producer.send({ messages });
  written += messages.length;
}
await producer.close();
const seconds = (performance.now() - started) / 1000;
process.stdout.write(JSON.stringify({ seconds, records: written }) + '\n');
