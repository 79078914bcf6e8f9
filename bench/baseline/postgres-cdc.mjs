// Hand-written logical-replication consumer, the baseline of the `postgres-cdc` bench row: node postgres-cdc.mjs URL
// SLOT END_LSN. pg's Client in replication mode streams SLOT (START_REPLICATION, pgoutput, publication
// `bench`), decodes every message with Wire's own pgoutput decoder (dist/, built by `npm run bench`) and counts the
// inserts, until a commit reaches END_LSN; then it sends one standby status update confirming it. No records are
// made. Run in a process of its own, as each Wire run is, and timed from importing the client (as Wire's run loads it)
// to that update; prints {"seconds","records"}.
import { Buffer } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import process from 'node:process';
import { PgoutputDecoder } from '../../dist/connectors/postgres/cdc-pgoutput.js';
import { parseLsn } from '../../dist/connectors/postgres/lsn.js';

const [, , url, slot, end] = process.argv;
const started = performance.now();
const { default: pg } = await import('pg');
const client = new pg.Client({ connectionString: url, replication: 'database' });
client.on('error', () => {});
await client.connect();
const connection = client.connection;
const decoder = new PgoutputDecoder();
const endLsn = parseLsn(end);
let inserts = 0;
await new Promise((resolve, reject) => {
  connection.on('copyData', ({ chunk }) => {
    if (chunk[0] !== 0x77) return;
    const message = decoder.decode(chunk.subarray(25));
    if (message.kind === 'change') inserts++;
    else if (message.kind === 'commit' && message.endLsn >= endLsn) {
      const status = Buffer.alloc(34);
      status[0] = 0x72;
      for (const at of [1, 9, 17]) status.writeBigUInt64BE(message.endLsn, at);
      connection.sendCopyFromChunk(status);
      resolve();
    }
  });
  client.query(`START_REPLICATION SLOT ${slot} LOGICAL 0/0 (proto_version '1', publication_names 'bench')`).catch(reject);
});
const seconds = (performance.now() - started) / 1000;
await client.end().catch(() => undefined);
process.stdout.write(JSON.stringify({ seconds, records: inserts }) + '\n');
