// The postgres CDC source against a real PostgreSQL 15 (test/harness, wal_level=logical): an initial snapshot then
// 100,000 changes, a kill -9 of the pipeline after a checkpoint, a restart of the server mid-run; every change is
// checked by content, duplicates are counted, and the slot's confirmed position is checked.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, runWire, startWire, waitFor } from '../cli/harness.js';
import { postgresAvailable, startPostgres, type PostgresServer } from '../harness/postgres.js';
import { postgresCdcSourceDefinition } from '../../src/connectors/postgres/cdc-source.js';
import { freePort } from '../harness/servers.js';
import { fileLines, killAtCheckpoint, pipelineFile as writePipeline, stopRun } from './connector-runs.js';
import { applyChanges, createTable, insertRows, tallyChanges, type Workload } from './postgres-cdc-records.js';

const postgres = postgresAvailable();

let server: PostgresServer | undefined;
const clients: Client[] = [];

beforeAll(async () => {
  if (postgres.available) server = await startPostgres();
}, 120_000);
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.end().catch(() => undefined);
  await cleanup();
});

/** A client of its own (it is ended after the test); it survives nothing: one per phase around a server restart. */
async function connect(): Promise<Client> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: server!.url });
  client.on('error', () => {});
  await client.connect();
  clients.push(client);
  return client;
}

async function pipelineFile(dir: string, name: string, source: string, output: string, rate?: number): Promise<string> {
  return writePipeline(
    dir,
    [
      `name: ${name}`,
      ...(rate === undefined ? [] : [`rate_limit: ${rate}`]),
      `source: { type: postgres_cdc, config: { dsn: "${server!.url}", ${source} } }`,
      `sink: { type: file, config: { path: ${JSON.stringify(output)}, format: jsonl } }`,
    ],
    `${name}.yaml`,
  );
}

async function currentLsn(client: Client): Promise<string> {
  return (await client.query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0]!.lsn;
}

async function confirmedAtLeast(client: Client, slot: string, lsn: string): Promise<boolean> {
  const found = await client.query<{ ok: boolean }>('SELECT confirmed_flush_lsn >= $2::pg_lsn AS ok FROM pg_replication_slots WHERE slot_name = $1', [slot, lsn]);
  return found.rows[0]?.ok === true;
}

describe.skipIf(!postgres.available)(postgres.available ? 'postgres cdc source on a real server' : `postgres cdc source (skipped: ${postgres.skipReason})`, () => {
  it('snapshot then 100,000 changes, kill -9 after a checkpoint, rerun: every change once, and the LSN confirmed', { timeout: 240_000 }, async () => {
    const w: Workload = { snapshot: 10_000, total: 100_000, updated: 5_000, deletedTo: 7_500 };
    const client = await connect();
    await createTable(client, 'src');
    await insertRows(client, 'src', 0, w.snapshot);
    const dir = await makeTempDir();
    const state = join(dir, 'state');
    const output = join(dir, 'out.jsonl');
    const file = await pipelineFile(dir, 'cdc-kill', 'tables: [src]', output, 30_000);
    const first = startWire(['run', '--data-dir', state, file], { cwd: dir });
    // The first snapshot row out means the slot exists: every change from now on is in its stream, none in the snapshot.
    await waitFor(async () => (await fileLines(output)).length > 0 || first.child.exitCode !== null, 60_000, 20);
    expect(first.child.exitCode, first.stderr()).toBeNull();
    await applyChanges(client, 'src', w);
    const end = await currentLsn(client);
    const { seen } = await killAtCheckpoint(first, state, 'cdc-kill', { until: (c) => typeof (c.position as { lsn?: unknown } | null)?.lsn === 'string' });
    const atKill = (await fileLines(output)).length;
    expect(atKill, 'the first run took every change before it was killed').toBeLessThan(w.total + w.updated);
    // The rerun streams from the slot up to the WAL position taken after the last change, then ends by itself.
    await writeFile(file, (await readFile(file, 'utf8')).replace('tables: [src]', `tables: [src], end_lsn: "${end}"`));
    const rerun = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 180_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const check = tallyChanges(await fileLines(output), w, 'public.src');
    console.log(
      `postgres cdc after kill -9: checkpoint at ${JSON.stringify(seen.position)}, ${atKill} records at the kill, ` +
        `${check.expected} changes expected, ${check.duplicates} duplicate(s)`,
    );
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
    // The file sink resumes at its checkpointed length and the source skips what the checkpoint covers.
    expect(check.duplicates).toBe(0);
    // Confirmed to the server once the last checkpoint covered everything: the slot no longer holds that WAL.
    expect(await confirmedAtLeast(client, 'wire_cdc_kill', end)).toBe(true);
  });

  it('kill -9 inside the snapshot: the rerun takes it again from a new slot, every row there (duplicates counted)', { timeout: 180_000 }, async () => {
    const w: Workload = { snapshot: 30_000, total: 30_000, updated: 0, deletedTo: 0 };
    const client = await connect();
    await createTable(client, 'snap');
    await insertRows(client, 'snap', 0, w.snapshot, 10_000);
    const dir = await makeTempDir();
    const state = join(dir, 'state');
    const output = join(dir, 'out.jsonl');
    const file = await pipelineFile(dir, 'cdc-snap', 'tables: [snap]', output, 5_000);
    const first = startWire(['run', '--data-dir', state, file], { cwd: dir });
    const { seen } = await killAtCheckpoint(first, state, 'cdc-snap', { until: (c) => typeof (c.position as { snapshot?: unknown } | null)?.snapshot === 'string' });
    expect((seen.position as { last?: boolean }).last).toBeUndefined();
    const atKill = (await fileLines(output)).length;
    await writeFile(file, (await readFile(file, 'utf8')).replace('tables: [snap]', `tables: [snap], end_lsn: "${await currentLsn(client)}"`));
    const rerun = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 120_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const lines = await fileLines(output);
    const check = tallyChanges(lines, w, 'public.snap');
    const checkpointed = (seen.position as { row: number }).row;
    console.log(`postgres cdc, kill -9 inside the snapshot: checkpoint at row ${checkpointed}, ${atKill} rows at the kill, ${check.duplicates} duplicate(s)`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
    // The file keeps what the checkpoint covered, and the new snapshot brings those rows again: nothing else repeats.
    expect(check.duplicates).toBe(checkpointed);
    expect(lines).toHaveLength(w.snapshot + checkpointed);
  });

  it('the server restarted mid-stream: the source reconnects, and every change is there once', { timeout: 240_000 }, async () => {
    const w: Workload = { snapshot: 0, total: 60_000, updated: 0, deletedTo: 0 };
    const before = await connect();
    await createTable(before, 'moving');
    await before.end();
    const dir = await makeTempDir();
    const output = join(dir, 'out.jsonl');
    const file = await pipelineFile(dir, 'cdc-restart', 'tables: [moving], snapshot: false', output, 20_000);
    const wire = startWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir });
    // The slot is made at open: wait for it before changing anything (without a snapshot, earlier changes are not captured).
    const watcher = await connect();
    await waitFor(async () => (await watcher.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = 'wire_cdc_restart'")).rowCount === 1, 60_000, 50);
    await watcher.end();
    const writer = await connect();
    await insertRows(writer, 'moving', 0, w.total / 2);
    await writer.end();
    await waitFor(async () => (await fileLines(output)).length > w.total / 8 || wire.child.exitCode !== null, 60_000, 20);
    expect(wire.child.exitCode, wire.stderr()).toBeNull();
    await server!.restart();
    const after = await connect();
    await insertRows(after, 'moving', w.total / 2, w.total);
    await waitFor(async () => (await fileLines(output)).length >= w.total || wire.child.exitCode !== null, 120_000, 100);
    await stopRun(wire);
    const check = tallyChanges(await fileLines(output), w, 'public.moving', false);
    console.log(`postgres cdc, server restarted mid-run: ${check.expected} changes expected, ${check.duplicates} duplicate(s)`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
    expect(check.duplicates).toBe(0);
  });

  it('backpressure: while the engine takes nothing, at most max_buffered changes (and one socket read) wait', { timeout: 120_000 }, async () => {
    const client = await connect();
    await createTable(client, 'slow');
    const dir = await makeTempDir();
    const source = postgresCdcSourceDefinition.create({ dsn: server!.url, tables: ['slow'], snapshot: false, max_buffered: 200 });
    const stop = new AbortController();
    await source.open({ pipeline: 'slow', component: 'source', dataDir: dir, signal: stop.signal });
    try {
      const batches = source.read(100)[Symbol.asyncIterator]();
      const reading = batches.next();
      await insertRows(client, 'slow', 0, 50_000);
      expect(((await reading).value as unknown[]).length).toBeGreaterThan(0);
      // Nothing more is taken: the source must stop reading the stream instead of decoding all 50,000 changes.
      const queued = (): number => {
        const inside = source as unknown as { queue: unknown[]; queueHead: number };
        return inside.queue.length - inside.queueHead;
      };
      let most = 0;
      for (let i = 0; i < 30; i++) {
        most = Math.max(most, queued());
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      console.log(`postgres cdc backpressure: at most ${most} changes queued while the engine took none`);
      expect(most).toBeGreaterThanOrEqual(200);
      expect(most).toBeLessThan(200 + 2_000);
      // Reading again resumes the stream: every change arrives.
      let total = ((await reading).value as unknown[]).length;
      while (total < 50_000) total += ((await batches.next()).value as unknown[]).length;
      expect(total).toBe(50_000);
    } finally {
      stop.abort();
      await source.close();
    }
  });

  it('a table without a primary key is refused at open, saying how to fix it', { timeout: 60_000 }, async () => {
    const client = await connect();
    await client.query('CREATE TABLE nokey (n integer)');
    const dir = await makeTempDir();
    const file = await pipelineFile(dir, 'cdc-nokey', 'tables: [nokey]', join(dir, 'out.jsonl'));
    const result = await runWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir, timeoutMs: 60_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('table public.nokey has no replica identity');
    expect(result.stderr).toContain('REPLICA IDENTITY FULL');
  });

  it('an unreachable server fails the run after its reconnects, naming the server without the password', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const dir = await makeTempDir();
    const file = join(dir, 'down.yaml');
    await writeFile(
      file,
      `name: down\nsource: { type: postgres_cdc, config: { dsn: "postgres://wire:hunter2@127.0.0.1:${port}/db", tables: [t], reconnect_attempts: 2 } }\nsink: { type: drop }\n`,
    );
    const result = await runWire(['run', '--data-dir', join(dir, 'state'), file], { cwd: dir, timeoutMs: 60_000 });
    expect(result.code).toBe(7);
    expect(result.stderr).toContain(`postgres at 127.0.0.1:${port}/db: connect (after 2 retries) failed`);
    expect(result.stderr).not.toContain('hunter2');
  });
});
