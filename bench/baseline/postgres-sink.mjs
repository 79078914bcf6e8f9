// Hand-written PostgreSQL writer, the baseline of the `postgres-sink` bench row: node postgres-sink.mjs URL TABLE
// RECORDS. Makes the row's records (the generate source's `{ n, payload }`) and writes them with one multi-row INSERT
// of 1,024 rows per batch, each its own transaction, as the sink does by default: the statement also stores the batch's
// last position in an offsets table (a data-modifying WITH), so rows and position commit together (what makes a
// replay skip what was written). The INSERT of a full batch is a named prepared statement, as the sink's is: the server
// parses it once, not for every batch. Run in a process of its own, as each Wire run is, and timed from importing the
// client (as Wire's run loads it) to the last INSERT's answer; prints {"seconds","records"}.
import { performance } from 'node:perf_hooks';
import process from 'node:process';

const BATCH = 1024;
const [, , url, table, count] = process.argv;
const records = Number(count);
const started = performance.now();
const { default: pg } = await import('pg');
const client = new pg.Client({ connectionString: url });
await client.connect();
await client.query(`CREATE TABLE IF NOT EXISTS ${table}_offsets (name text PRIMARY KEY, position bigint NOT NULL)`);
const insert = (rows) => {
  const tuples = [];
  for (let r = 0; r < rows; r++) tuples.push(`($${2 * r + 1}, $${2 * r + 2})`);
  const offset = `$${2 * rows + 1}`;
  return (
    `WITH offset_row AS (INSERT INTO ${table}_offsets (name, position) VALUES ('bare', ${offset}) ` +
    `ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position) ` +
    `INSERT INTO ${table} (n, payload) VALUES ${tuples.join(', ')}`
  );
};
const full = { name: 'bare_insert', text: insert(BATCH) };
let written = 0;
for (let start = 0; start < records; start += BATCH) {
  const end = Math.min(records, start + BATCH);
  const values = [];
  for (let n = start; n < end; n++) values.push(n, `p${(n * 7919) % 100_003}`);
  values.push(end - 1);
  const query = end - start === BATCH ? { ...full, values } : { text: insert(end - start), values };
  written += (await client.query(query)).rowCount;
}
const seconds = (performance.now() - started) / 1000;
await client.end();
process.stdout.write(JSON.stringify({ seconds, records: written }) + '\n');
