// Hand-written PostgreSQL writer, the baseline of the `postgres-sink` bench row: node postgres-sink.mjs URL TABLE
// RECORDS. Makes the row's records (the generate source's `{ n, payload }`) and writes them with one multi-row INSERT
// of 1,024 rows per batch, each its own transaction, as the sink does (without its offset row). Run in a process of its
// own, as each Wire run is, and timed from importing the client (as Wire's run loads it) to the last INSERT's answer;
// prints {"seconds","records"}.
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const BATCH = 1024;
const [, , url, table, count] = process.argv;
const records = Number(count);
const started = performance.now();
const { default: pg } = await import('pg');
const client = new pg.Client({ connectionString: url });
await client.connect();
let written = 0;
for (let start = 0; start < records; start += BATCH) {
  const end = Math.min(records, start + BATCH);
  const values = [];
  const tuples = [];
  for (let n = start; n < end; n++) {
    tuples.push(`($${values.length + 1}, $${values.length + 2})`);
    values.push(n, `p${(n * 7919) % 100_003}`);
  }
  written += (await client.query(`INSERT INTO ${table} (n, payload) VALUES ${tuples.join(', ')}`, values)).rowCount;
}
const seconds = (performance.now() - started) / 1000;
await client.end();
process.stdout.write(JSON.stringify({ seconds, records: written }) + '\n');
