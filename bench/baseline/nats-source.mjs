// Hand-written JetStream consumer, the baseline of the `nats-source` bench row:
// node nats-source.mjs URL STREAM DURABLE RECORDS. A durable pull consumer with cumulative acks (AckPolicy.All), pulls
// of 1024 messages (Wire's batch size), an acknowledged ack (ackAck) of the last of every 1024, until RECORDS are read.
// Timed from importing the client (as Wire's run loads it) to the last ack confirmed; prints {"seconds","records"}.
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const [, , url, stream, durable, wanted] = process.argv;
const started = performance.now();
const { connect } = await import('@nats-io/transport-node');
const { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } = await import('@nats-io/jetstream');
const client = await connect({ servers: url });
const jsm = await jetstreamManager(client);
await jsm.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.All, deliver_policy: DeliverPolicy.All, max_ack_pending: 1_000_000 });
const consumer = await jetstream(client).consumers.get(stream, durable);
const messages = await consumer.consume({ max_messages: 1024 });
let records = 0;
for await (const msg of messages) {
  records++;
  if (records % 1024 === 0 || records === Number(wanted)) await msg.ackAck();
  if (records === Number(wanted)) break;
}
const seconds = (performance.now() - started) / 1000;
messages.stop();
await client.close();
process.stdout.write(JSON.stringify({ seconds, records }) + '\n');
