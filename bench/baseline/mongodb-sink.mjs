// Hand-written MongoDB writer, the baseline of the `mongodb-sink` bench row: node mongodb-sink.mjs URL COLLECTION
// RECORDS. Makes the row's records (the generate source's `{ n, payload }`) and writes them with one unordered bulkWrite
// of 1,024 replaceOne upserts by `_id` per batch, as the sink does. Run in a process of its own, as each Wire run is,
// and timed from importing the driver (as Wire's run loads it) to the last bulkWrite's answer; prints
// {"seconds","records"}.
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const BATCH = 1024;
const [, , url, collection, count] = process.argv;
const records = Number(count);
const started = performance.now();
const { MongoClient } = await import('mongodb');
const client = await MongoClient.connect(url);
const target = client.db('bench').collection(collection);
let written = 0;
for (let start = 0; start < records; start += BATCH) {
  const operations = [];
  for (let n = start; n < Math.min(records, start + BATCH); n++) {
    operations.push({ replaceOne: { filter: { _id: `bare:${n}` }, replacement: { n, payload: `p${(n * 7919) % 100_003}` }, upsert: true } });
  }
  await target.bulkWrite(operations, { ordered: false });
  written += operations.length;
}
const seconds = (performance.now() - started) / 1000;
await client.close();
process.stdout.write(JSON.stringify({ seconds, records: written }) + '\n');
