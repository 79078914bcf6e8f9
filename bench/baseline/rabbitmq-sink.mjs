// Hand-written RabbitMQ publisher, the baseline of the `rabbitmq-sink` bench row: node rabbitmq-sink.mjs URL QUEUE
// RECORDS. Makes the row's records (the generate source's `{ n, payload }`) and publishes them as the sink does:
// persistent, mandatory publishes to the default exchange on a confirm channel, 1,024 at a time, every confirm awaited
// (waitForConfirms) before the next batch. Run in a process of its own, as each Wire run is, and timed from importing
// the client (as Wire's run loads it) to the last confirm; prints {"seconds","records"}.
import { performance } from 'node:perf_hooks';
import { Buffer } from 'node:buffer';
import process from 'node:process';

const BATCH = 1024;
const [, , url, queue, count] = process.argv;
const records = Number(count);
const started = performance.now();
const amqp = await import('amqplib');
const connection = await amqp.connect(url);
const channel = await connection.createConfirmChannel();
let written = 0;
for (let start = 0; start < records; start += BATCH) {
  for (let n = start; n < Math.min(records, start + BATCH); n++) {
    channel.publish('', queue, Buffer.from(JSON.stringify({ n, payload: `p${(n * 7919) % 100_003}` })), { persistent: true, mandatory: true, contentType: 'application/json' });
  }
  await channel.waitForConfirms();
  written += Math.min(records, start + BATCH) - start;
}
const seconds = (performance.now() - started) / 1000;
await connection.close();
process.stdout.write(JSON.stringify({ seconds, records: written }) + '\n');
