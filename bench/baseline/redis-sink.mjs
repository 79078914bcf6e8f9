// Hand-written Redis writer, the baseline of the `redis-sink` bench row: node redis-sink.mjs PORT KEY RECORDS. Makes the
// row's records (the generate source's `{ n, payload }`) and appends them to the stream KEY with ioredis, XADD
// pipelined 1,024 per round trip. Run in a process of its own, as each Wire run is, and timed from importing the
// client (as Wire's run loads it) to the last pipeline's answer; prints {"seconds","records"}.
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const BATCH = 1024;
const [, , port, key, count] = process.argv;
const records = Number(count);
const started = performance.now();
const { Redis } = await import('ioredis');
const client = new Redis(Number(port), '127.0.0.1');
let written = 0;
for (let start = 0; start < records; start += BATCH) {
  const pipeline = client.pipeline();
  for (let n = start; n < Math.min(records, start + BATCH); n++) pipeline.xadd(key, '*', 'value', JSON.stringify({ n, payload: `p${(n * 7919) % 100_003}` }));
  for (const [error] of await pipeline.exec()) if (error) throw error;
  written += Math.min(records, start + BATCH) - start;
}
const seconds = (performance.now() - started) / 1000;
client.disconnect();
process.stdout.write(JSON.stringify({ seconds, records: written }) + '\n');
