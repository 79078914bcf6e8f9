// The postgres sink against a real PostgreSQL 15 (test/harness): 100,000 records, a kill -9 of the pipeline after
// a checkpoint, a restart of the server mid-run; every row is checked by content and duplicates must be zero.
import { join } from 'node:path';
import type { Client } from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, makeTempDir, runWire, startWire, waitFor } from '../cli/harness.js';
import { postgresAvailable, startPostgres, type PostgresServer } from '../harness/postgres.js';
import { killAtCheckpoint, pipelineFile } from './connector-runs.js';
import { tally } from './redis-records.js';

const postgres = postgresAvailable();
const RECORDS = 100_000;

let server: PostgresServer | undefined;
let client: Client | undefined;
afterEach(async () => {
  await client?.end().catch(() => undefined);
  client = undefined;
  await cleanup();
  await server?.stop();
  server = undefined;
});

async function setup(): Promise<{ dir: string; state: string }> {
  server = await startPostgres();
  const { default: pg } = await import('pg');
  client = new pg.Client({ connectionString: server.url });
  client.on('error', () => {});
  await client.connect();
  await client.query('CREATE TABLE out (n integer, payload text)');
  const dir = await makeTempDir();
  return { dir, state: join(dir, 'state') };
}

/** A client that outlives a server restart: a fresh connection per query. */
async function query<R extends object>(sql: string): Promise<R[]> {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: server!.url });
  await c.connect();
  try {
    return (await c.query<R>(sql)).rows;
  } finally {
    await c.end();
  }
}

async function rows(): Promise<string[]> {
  return (await query<{ n: number; payload: string }>('SELECT n, payload FROM out')).map((r) => JSON.stringify(r));
}

const count = async (): Promise<number> => Number((await query<{ c: string }>('SELECT count(*) AS c FROM out'))[0]!.c);

async function generateInto(dir: string, name: string, rate: number): Promise<string> {
  return pipelineFile(dir, [
    `name: ${name}`,
    `rate_limit: ${rate}`,
    `source: { type: generate, config: { count: ${RECORDS}, record: { n: "i", payload: "concat('p', (i * 7919) % 100003)" } } }`,
    `sink: { type: postgres, config: { dsn: "${server!.url}", table: out, columns: [n, payload] } }`,
  ]);
}

describe.skipIf(!postgres.available)(postgres.available ? 'postgres sink on a real server' : `postgres sink (skipped: ${postgres.skipReason})`, () => {
  it('100,000 records, kill -9 after a checkpoint, rerun: every row once (exactly-once: zero duplicates)', { timeout: 300_000 }, async () => {
    const { dir, state } = await setup();
    const file = await generateInto(dir, 'to-postgres', 25_000);
    const first = startWire(['run', '--data-dir', state, file], { cwd: dir });
    const { last } = await killAtCheckpoint(first, state, 'to-postgres', {
      // Past the checkpoint too: rows committed after it are what the rerun must not write again.
      beforeKill: async () => {
        const atCheckpoint = await count();
        await waitFor(async () => (await count()) > atCheckpoint || first.child.exitCode !== null, 60_000, 20);
      },
    });
    const atKill = await count();
    expect(atKill).toBeLessThan(RECORDS);
    const checkpointed = last.position as number;
    // The kill came after rows beyond the checkpoint were committed: a replay without the stored offset would repeat them.
    expect(atKill).toBeGreaterThan(checkpointed + 1);
    const rerun = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 240_000 });
    expect(rerun.code, rerun.stderr).toBe(0);
    const check = tally(await rows(), RECORDS);
    console.log(`postgres sink after kill -9: ${atKill} rows at the kill (checkpoint at record ${checkpointed}), ${check.duplicates} duplicate(s)`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
    expect(check.duplicates).toBe(0);
  });

  it('the server restarted mid-run: the sink reconnects, and every row is there once', { timeout: 300_000 }, async () => {
    const { dir, state } = await setup();
    await client!.end();
    client = undefined;
    const file = await generateInto(dir, 'restart', 20_000);
    const wire = startWire(['run', '--data-dir', state, file], { cwd: dir });
    await waitFor(async () => (await count()) > RECORDS / 5 || wire.child.exitCode !== null, 120_000, 50);
    await server!.restart();
    const ended = await wire.exited(240_000);
    expect(ended.code, wire.stderr()).toBe(0);
    const check = tally(await rows(), RECORDS);
    console.log(`postgres restart mid-run: ${check.duplicates} duplicate(s)`);
    expect(check.wrong).toEqual([]);
    expect(check.missing).toEqual([]);
    expect(check.duplicates).toBe(0);
  });

  it('a missing table fails the run at once, naming it', { timeout: 120_000 }, async () => {
    const { dir, state } = await setup();
    const file = await pipelineFile(
      dir,
      ['name: missing', 'source: { type: generate, config: { count: 3 } }', `sink: { type: postgres, config: { dsn: "${server!.url}", table: nowhere, columns: [i] } }`],
      'missing.yaml',
    );
    const result = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 60_000 });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('table nowhere does not exist');
  });

  it('an unreachable server fails the run after its reconnects, naming the server without the password', { timeout: 120_000 }, async () => {
    const { dir, state } = await setup();
    const port = server!.port;
    await client!.end();
    client = undefined;
    await server!.stop();
    server = undefined;
    const file = await pipelineFile(
      dir,
      [
        'name: down',
        'source: { type: generate, config: { count: 3 } }',
        `sink: { type: postgres, config: { dsn: "postgres://wire:hunter2@127.0.0.1:${port}/db", table: t, columns: [i], reconnect_attempts: 2 } }`,
      ],
      'down.yaml',
    );
    const result = await runWire(['run', '--data-dir', state, file], { cwd: dir, timeoutMs: 60_000 });
    expect(result.code).toBe(7);
    expect(result.stderr).toContain(`postgres at 127.0.0.1:${port}/db: connect (after 2 retries) failed`);
    expect(result.stderr).not.toContain('hunter2');
  });
});
