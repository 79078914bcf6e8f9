// Hand-written Elasticsearch writer, the baseline of the `elasticsearch-sink` bench row: node elasticsearch-sink.mjs
// URL INDEX RECORDS. Makes the row's records (the generate source's `{ n, payload }`) and indexes them with
// @elastic/elasticsearch, one bulk request of 1,024 index operations with ids per round trip, every item's answer
// checked. Run in a process of its own, as each Wire run is, and timed from importing the client (as Wire's run loads
// it) to the last bulk answer; prints {"seconds","records"}.
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const BATCH = 1024;
const [, , url, index, count] = process.argv;
const records = Number(count);
const started = performance.now();
const { Client } = await import('@elastic/elasticsearch');
const client = new Client({ node: url, maxRetries: 0 });
let written = 0;
for (let start = 0; start < records; start += BATCH) {
  const operations = [];
  for (let n = start; n < Math.min(records, start + BATCH); n++) operations.push({ index: { _index: index, _id: `bare:${n}:1` } }, { n, payload: `p${(n * 7919) % 100_003}` });
  const answer = await client.bulk({ operations });
  if (answer.errors) throw new Error('the bulk request had items refused');
  written += answer.items.length;
}
const seconds = (performance.now() - started) / 1000;
await client.close();
process.stdout.write(JSON.stringify({ seconds, records: written }) + '\n');
