// Hand-written redis stream consumer, the baseline of the `redis-source` bench row:
// node redis-source.mjs PORT STREAM GROUP RECORDS. Reads the stream through a consumer group, XREADGROUP of 1024
// entries (Wire's batch size) then XACK of them, until RECORDS are acknowledged. Timed from importing the client
// (as Wire's run loads it) to the last XACK; prints {"seconds","records"}.
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const [, , port, stream, group, wanted] = process.argv;
const started = performance.now();
const { Redis } = await import('ioredis');
const client = new Redis(Number(port), '127.0.0.1');
await client.xgroup('CREATE', stream, group, '0');
let records = 0;
while (records < Number(wanted)) {
  const reply = await client.xreadgroup('GROUP', group, 'bare', 'COUNT', 1024, 'BLOCK', 1000, 'STREAMS', stream, '>');
  const entries = reply?.[0]?.[1] ?? [];
  if (entries.length === 0) continue;
  records += entries.length;
  await client.xack(stream, group, ...entries.map(([id]) => id));
}
const seconds = (performance.now() - started) / 1000;
client.disconnect();
process.stdout.write(JSON.stringify({ seconds, records }) + '\n');
