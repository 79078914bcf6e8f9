// Hand-written RabbitMQ consumer, the baseline of the `rabbitmq-source` bench row: node rabbitmq-source.mjs URL QUEUE
// RECORDS PREFETCH. Consumes RECORDS messages of QUEUE with manual acks and the prefetch Wire's source uses, acking
// (`multiple`) each time half the prefetch waits for an ack and at the last message, then closes. Run in a process of
// its own, as each Wire run is, and timed from importing the client (as Wire's run loads it) to the close; prints
// {"seconds","records"}.
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const [, , url, queue, count, prefetch] = process.argv;
const records = Number(count);
const window = Number(prefetch);
const started = performance.now();
const amqp = await import('amqplib');
const connection = await amqp.connect(url);
const channel = await connection.createChannel();
await channel.checkQueue(queue);
await channel.prefetch(window);
let read = 0;
let unacked = 0;
await new Promise((resolve, reject) => {
  channel.on('error', reject);
  channel
    .consume(
      queue,
      (message) => {
        if (message === null) return reject(new Error(`the broker cancelled the consumer of ${queue}`));
        read++;
        unacked++;
        if (unacked * 2 >= window || read === records) {
          channel.ack(message, true);
          unacked = 0;
        }
        if (read === records) resolve();
      },
      { noAck: false },
    )
    .catch(reject);
});
await channel.close();
await connection.close();
const seconds = (performance.now() - started) / 1000;
process.stdout.write(JSON.stringify({ seconds, records: read }) + '\n');
