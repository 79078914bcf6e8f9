// Hand-written MQTT subscriber, the baseline of the `mqtt-source` bench row: node mqtt-source.mjs URL CLIENT_ID RECORDS
// RECEIVE_MAXIMUM. Resumes the persistent session CLIENT_ID (clean start off, MQTT 5, the receive maximum Wire's
// source uses) whose QoS 1 messages mosquitto queued, reads RECORDS of them, each PUBACKed as it is handled (mqtt.js's
// own way), and disconnects. Run in a process of its own, as each Wire run is, and timed from importing the client (as
// Wire's run loads it) to the disconnect; prints {"seconds","records"}.
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const [, , url, clientId, count, receiveMaximum] = process.argv;
const records = Number(count);
const started = performance.now();
const mqtt = await import('mqtt');
let read = 0;
let done = () => undefined;
const all = new Promise((resolve) => (done = resolve));
// The handler is in place before CONNACK: the broker sends the session's queue right after it.
const client = mqtt.connect(url, { clientId, clean: false, protocolVersion: 5, reconnectPeriod: 0, properties: { sessionExpiryInterval: 3600, receiveMaximum: Number(receiveMaximum) } });
client.on('error', (error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
client.on('message', () => {
  if (++read === records) done();
});
await all;
await client.endAsync();
const seconds = (performance.now() - started) / 1000;
process.stdout.write(JSON.stringify({ seconds, records: read }) + '\n');
