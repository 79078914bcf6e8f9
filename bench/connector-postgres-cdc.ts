// The postgres CDC row of `npm run bench` (`postgres-cdc`): inserts streamed from a replication slot through Wire
// (postgres_cdc → drop, ending at `end_lsn`) beside a bare logical-replication consumer doing the same work in the
// same run: pg's Client in replication mode, START_REPLICATION, every pgoutput message decoded (Wire's decoder) until
// the same WAL position, then one standby status update.
import type { Client, ClientConfig, Connection } from 'pg';
import { PgoutputDecoder } from '../src/connectors/postgres/cdc-pgoutput.js';
import { parseLsn } from '../src/connectors/postgres/lsn.js';
import { startPostgres } from '../test/harness/postgres.js';
import { wirePipelineRun, type ConnectorRow } from './lib/wire-pipeline-run.js';

interface CdcBenchOptions {
  readonly wire: string;
  readonly dir: string;
  readonly repeat: number;
}

function wireCdc(o: CdcBenchOptions, url: string, slot: string, end: string, records: number): Promise<number> {
  const source = `{ type: postgres_cdc, config: { dsn: "${url}", tables: [bench], publication: bench, slot: ${slot}, snapshot: false, end_lsn: "${end}" } }`;
  return wirePipelineRun(o, `postgres-cdc-${slot}`, source, '{ type: drop }', records);
}

/** The bare consumer: seconds from connecting to the commit that reaches `end`. */
async function bareCdc(url: string, slot: string, end: string, records: number): Promise<number> {
  const { default: pg } = await import('pg');
  const started = performance.now();
  const config: ClientConfig & { replication: 'database' } = { connectionString: url, replication: 'database' };
  const client: Client = new pg.Client(config);
  client.on('error', () => {});
  await client.connect();
  const connection = client.connection as Connection & { sendCopyFromChunk(chunk: Buffer): void };
  const decoder = new PgoutputDecoder();
  const endLsn = parseLsn(end);
  let inserts = 0;
  await new Promise<void>((resolve, reject) => {
    connection.on('copyData', ({ chunk }: { chunk: Buffer }) => {
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
  if (inserts !== records) throw new Error(`postgres-cdc: the bare consumer read ${inserts} of ${records} changes`);
  return seconds;
}

export async function benchPostgresCdc(o: CdcBenchOptions, records: number): Promise<ConnectorRow> {
  const server = await startPostgres();
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    await client.query('CREATE TABLE bench (n integer PRIMARY KEY, payload text NOT NULL); CREATE PUBLICATION bench FOR TABLE bench');
    // One slot per consumer and round, all made before the inserts: each streams the same WAL.
    for (let i = 0; i < o.repeat; i++) {
      await client.query("SELECT pg_create_logical_replication_slot($1, 'pgoutput'), pg_create_logical_replication_slot($2, 'pgoutput')", [`bare_${i}`, `wire_${i}`]);
    }
    for (let start = 0; start < records; start += 1000) {
      await client.query("INSERT INTO bench SELECT n, 'p' || ((n * 7919) % 100003) FROM generate_series($1::int, $2::int) AS n", [start, Math.min(records, start + 1000) - 1]);
    }
    const end = (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
    const wire: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < o.repeat; i++) {
      bare.push(await bareCdc(server.url, `bare_${i}`, end, records));
      wire.push(await wireCdc(o, server.url, `wire_${i}`, end, records));
    }
    return { name: 'postgres-cdc', records, wireSeconds: wire, bareSeconds: bare, baseline: 'pg START_REPLICATION loop decoding pgoutput, no records made' };
  } finally {
    await client.end();
    await server.stop();
  }
}
