// Hand-written NATS JetStream publisher, the baseline of the `nats-sink` bench row: node nats-sink.mjs URL SUBJECT
// RECORDS. Makes the row's records (the generate source's `{ n, payload }`) and publishes them to JetStream, 1,024
// publishes sent together and every ack awaited before the next batch, as the sink does. Run in a process of its own,
// as each Wire run is, and timed from importing the client (as Wire's run loads it) to the last ack; prints
// {"seconds","records"}.
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const BATCH = 1024;
const [, , url, subject, count] = process.argv;
const records = Number(count);
const started = performance.now();
const { connect } = await import('@nats-io/transport-node');
const { jetstream } = await import('@nats-io/jetstream');
const client = await connect({ servers: url });
const js = jetstream(client);
let written = 0;
for (let start = 0; start < records; start += BATCH) {
  const acks = [];
  for (let n = start; n < Math.min(records, start + BATCH); n++) acks.push(js.publish(subject, JSON.stringify({ n, payload: `p${(n * 7919) % 100_003}` })));
  await Promise.all(acks);
  written += acks.length;
}
const seconds = (performance.now() - started) / 1000;
await client.close();
process.stdout.write(JSON.stringify({ seconds, records: written }) + '\n');
