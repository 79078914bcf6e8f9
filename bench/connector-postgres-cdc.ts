// The postgres CDC row of `npm run bench` (`postgres-cdc`): inserts streamed from a replication slot through Wire
// (postgres_cdc → drop, ending at `end_lsn`) beside a bare logical-replication consumer doing the same work in the
// same run (bench/baseline/postgres-cdc.mjs, a process of its own): pg's Client in replication mode,
// START_REPLICATION, every pgoutput message decoded (Wire's decoder) until the same WAL position, then one standby
// status update.
import { startPostgres } from '../test/harness/postgres.js';
import { bareProgramSeconds } from './lib/source-run.js';
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
      bare.push(await bareProgramSeconds(o, 'postgres-cdc.mjs', [server.url, `bare_${i}`, end], records));
      wire.push(await wireCdc(o, server.url, `wire_${i}`, end, records));
    }
    return { name: 'postgres-cdc', records, wireSeconds: wire, bareSeconds: bare, baseline: 'pg START_REPLICATION loop decoding pgoutput, no records made; own process, timed from its import' };
  } finally {
    await client.end();
    await server.stop();
  }
}
