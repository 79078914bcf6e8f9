// Hand-written MQTT publisher, the baseline of the `mqtt-sink` bench row: node mqtt-sink.mjs URL TOPIC RECORDS. Makes
// the row's records (the generate source's `{ n, payload }`) and publishes them with mqtt.js (MQTT 5) at QoS 1, 1,024
// at a time, every PUBACK awaited before the next batch, as the sink does. Run in a process of its own, as each Wire
// run is, and timed from importing the client (as Wire's run loads it) to the last PUBACK; prints {"seconds","records"}.
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const BATCH = 1024;
const [, , url, topic, count] = process.argv;
const records = Number(count);
const started = performance.now();
const mqtt = await import('mqtt');
const client = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 });
let written = 0;
for (let start = 0; start < records; start += BATCH) {
  const sent = [];
  for (let n = start; n < Math.min(records, start + BATCH); n++) sent.push(client.publishAsync(topic, JSON.stringify({ n, payload: `p${(n * 7919) % 100_003}` }), { qos: 1 }));
  await Promise.all(sent);
  written += sent.length;
}
const seconds = (performance.now() - started) / 1000;
await client.endAsync();
process.stdout.write(JSON.stringify({ seconds, records: written }) + '\n');
