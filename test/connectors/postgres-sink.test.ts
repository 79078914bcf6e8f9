// The postgres sink's writes against a real PostgreSQL 15: upserts on a key, and exactly-once by the position
// stored in the same transaction (a batch written again, as after a crash or a lost COMMIT answer, is skipped).
import type { Client } from 'pg';
import { afterEach, beforeAll, afterAll, describe, expect, it, vi } from 'vitest';
import { PostgresSink, postgresSinkDefinition } from '../../src/connectors/postgres/sink.js';
import { RecordsRefused } from '../../src/core/errors.js';
import { WireRecord, type Batch } from '../../src/core/record.js';
import { postgresAvailable, startPostgres, type PostgresServer } from '../harness/postgres.js';

const postgres = postgresAvailable();
let server: PostgresServer | undefined;
let client: Client | undefined;
const sinks: PostgresSink[] = [];

beforeAll(async () => {
  if (!postgres.available) return;
  server = await startPostgres();
  const { default: pg } = await import('pg');
  client = new pg.Client({ connectionString: server.url });
  await client.connect();
}, 120_000);
afterAll(async () => {
  await client?.end();
  await server?.stop();
});
afterEach(async () => {
  await Promise.all(sinks.splice(0).map((s) => s.close()));
});

let tables = 0;
async function table(columns: string): Promise<string> {
  const name = `t${++tables}`;
  await client!.query(`CREATE TABLE ${name} (${columns})`);
  return name;
}

/** A sink opened for `pipeline` (as the cluster task of source partition `partition`, when given). */
async function sink(config: Record<string, unknown>, pipeline = 'p', partition?: string): Promise<PostgresSink> {
  const s = postgresSinkDefinition.create({ dsn: server!.url, ...config }) as PostgresSink;
  sinks.push(s);
  await s.open({ pipeline, component: 'sink', dataDir: '/nonexistent', signal: new AbortController().signal, partition });
  return s;
}

const batch = (from: number, to: number, extra: Record<string, unknown> = {}): Batch =>
  Array.from({ length: to - from }, (_, i) => WireRecord.fromValue({ n: from + i, ...extra }, from + i));

async function select(name: string): Promise<unknown[]> {
  return (await client!.query(`SELECT * FROM ${name} ORDER BY n`)).rows;
}

describe.skipIf(!postgres.available)(postgres.available ? 'postgres sink writes' : `postgres sink (skipped: ${postgres.skipReason})`, () => {
  it('upserts on a key: a row whose key exists is updated, the last record of a key in a batch wins', async () => {
    const name = await table('n integer PRIMARY KEY, v text');
    const s = await sink({ table: name, columns: ['n', 'v'], key: ['n'], exactly_once: false });
    await s.write(batch(0, 3, { v: 'a' }));
    await s.write([WireRecord.fromValue({ n: 1, v: 'b' }, 3), WireRecord.fromValue({ n: 1, v: 'c' }, 4)]);
    expect(await select(name)).toEqual([
      { n: 0, v: 'a' },
      { n: 1, v: 'c' },
      { n: 2, v: 'a' },
    ]);
  });

  it('exactly-once: a batch written again by a restarted sink is skipped up to the stored position', async () => {
    const name = await table('n integer');
    const first = await sink({ table: name, columns: ['n'] }, 'eo');
    await first.write(batch(0, 10));
    await first.close();
    // The replay starts before what was committed (the checkpoint lagged) and goes past it.
    const second = await sink({ table: name, columns: ['n'] }, 'eo');
    await second.write(batch(5, 15));
    expect((await select(name)).map((r) => (r as { n: number }).n)).toEqual(Array.from({ length: 15 }, (_, i) => i));
    const offset = await client!.query("SELECT position, ordinal FROM wire_offsets WHERE pipeline = 'eo'");
    expect(offset.rows).toEqual([{ position: 14, ordinal: '1' }]);
  });

  it('exactly-once keeps the pieces of a split record that were not yet written', async () => {
    const name = await table('n integer, piece integer');
    const piece = (p: number): WireRecord => WireRecord.fromValue({ n: 7, piece: p }, 7);
    const first = await sink({ table: name, columns: ['n', 'piece'] }, 'split');
    await first.write([piece(0), piece(1)]);
    await first.close();
    const second = await sink({ table: name, columns: ['n', 'piece'] }, 'split');
    await second.write([piece(0), piece(1), piece(2)]);
    expect((await client!.query(`SELECT piece FROM ${name} ORDER BY piece`)).rows).toEqual([{ piece: 0 }, { piece: 1 }, { piece: 2 }]);
  });

  it('exactly-once refuses records out of position order (several lanes) instead of storing a position that lies', async () => {
    const name = await table('n integer');
    const s = await sink({ table: name, columns: ['n'] }, 'lanes');
    await expect(s.write([WireRecord.fromValue({ n: 2 }, 2), WireRecord.fromValue({ n: 1 }, 1)])).rejects.toThrow(/parallelism: 1/);
    expect(await select(name)).toEqual([]);
  });

  it('a record whose value is not an object is refused (to on_error), and the rest of its batch is written with its position', async () => {
    const name = await table('n integer');
    const s = await sink({ table: name, columns: ['n'] }, 'not-rows');
    const odd = [WireRecord.fromValue('text', 1), WireRecord.fromValue([1, 2], 3), WireRecord.fromValue(null, 4), WireRecord.fromValue(7, 6)];
    const written = [WireRecord.fromValue({ n: 0 }, 0), odd[0]!, WireRecord.fromValue({ n: 2 }, 2), odd[1]!, odd[2]!, WireRecord.fromValue({ n: 5 }, 5), odd[3]!];
    const error = await s.write(written).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(RecordsRefused);
    expect((error as RecordsRefused).records).toEqual(odd);
    expect((error as RecordsRefused).code).toBe('INVALID_INPUT');
    expect(await select(name)).toEqual([{ n: 0 }, { n: 2 }, { n: 5 }]);
    // A batch of nothing but refused records writes nothing and is refused whole.
    await expect(s.write([WireRecord.fromValue('x', 8)])).rejects.toBeInstanceOf(RecordsRefused);
    // The position stored is the last row written's: a replay skips the rows and refuses the odd records again.
    const offset = await client!.query("SELECT position FROM wire_offsets WHERE pipeline = 'not-rows'");
    expect(offset.rows).toEqual([{ position: 5 }]);
  });

  it('a batch that fits one statement is written with its position in one query: one round trip, its own transaction', async () => {
    const name = await table('n integer');
    const s = await sink({ table: name, columns: ['n'] }, 'one-query');
    // The first write reads the stored position back.
    await s.write(batch(0, 1));
    const { default: pg } = await import('pg');
    const query = vi.spyOn(pg.Client.prototype, 'query');
    try {
      await s.write(batch(1, 1025));
      expect(query).toHaveBeenCalledTimes(1);
    } finally {
      query.mockRestore();
    }
    expect((await select(name)).length).toBe(1025);
    const offset = await client!.query("SELECT position, ordinal FROM wire_offsets WHERE pipeline = 'one-query'");
    expect(offset.rows).toEqual([{ position: 1024, ordinal: '1' }]);
  });

  it('batches of a size seen before share a named prepared statement (pg parses it once per connection), with the same rows', async () => {
    const name = await table('n integer, tag text');
    const s = await sink({ table: name, columns: ['n', 'tag'], pool_size: 1 }, 'prepared');
    const { default: pg } = await import('pg');
    const query = vi.spyOn(pg.Client.prototype, 'query');
    let names: (string | undefined)[];
    try {
      for (let b = 0; b < 4; b++) await s.write(batch(b * 100, (b + 1) * 100, { tag: `b${b}` }));
      await s.write(batch(400, 437, { tag: 'odd' }));
      names = query.mock.calls.map(([q]) => (typeof q === 'object' && q !== null ? (q as { name?: string }).name : undefined));
    } finally {
      query.mockRestore();
    }
    // The first write reads the position back; the first batch of a size is unnamed, the next ones share a name.
    expect(names.slice(1)).toEqual([undefined, 'wire_insert_1', 'wire_insert_1', 'wire_insert_1', undefined]);
    const rows = (await select(name)) as { n: number; tag: string }[];
    expect(rows.map((r) => r.n)).toEqual(Array.from({ length: 437 }, (_, i) => i));
    expect(rows[150]!.tag).toBe('b1');
    // The server dropped and made the table again under the sink: the prepared statement is planned again, not stale.
    await client!.query(`DROP TABLE ${name}`);
    await client!.query(`CREATE TABLE ${name} (n integer, tag text)`);
    await s.write(batch(437, 537, { tag: 'again' }));
    expect((await select(name)).length).toBe(100);
    const offset = await client!.query("SELECT position, ordinal FROM wire_offsets WHERE pipeline = 'prepared'");
    expect(offset.rows).toEqual([{ position: 536, ordinal: '1' }]);
  });

  it('with prepared_statements: false, every batch goes as an unnamed statement', async () => {
    const name = await table('n integer');
    const s = await sink({ table: name, columns: ['n'], prepared_statements: false }, 'unprepared');
    const { default: pg } = await import('pg');
    const query = vi.spyOn(pg.Client.prototype, 'query');
    let named: unknown[];
    try {
      for (let b = 0; b < 3; b++) await s.write(batch(b * 50, (b + 1) * 50));
      named = query.mock.calls.filter(([q]) => typeof q === 'object' && q !== null && (q as { name?: string }).name !== undefined);
    } finally {
      query.mockRestore();
    }
    expect(named).toEqual([]);
    expect((await select(name)).length).toBe(150);
  });

  it('an upsert with exactly-once stores its position in the same statement, and a replay is skipped', async () => {
    const name = await table('n integer PRIMARY KEY, v text');
    const first = await sink({ table: name, columns: ['n', 'v'], key: ['n'] }, 'upsert-eo');
    await first.write([WireRecord.fromValue({ n: 1, v: 'a' }, 0), WireRecord.fromValue({ n: 1, v: 'b' }, 1), WireRecord.fromValue({ n: 2, v: 'c' }, 2)]);
    await first.close();
    const second = await sink({ table: name, columns: ['n', 'v'], key: ['n'] }, 'upsert-eo');
    await second.write([WireRecord.fromValue({ n: 2, v: 'replayed' }, 2), WireRecord.fromValue({ n: 3, v: 'd' }, 3)]);
    expect(await select(name)).toEqual([
      { n: 1, v: 'b' },
      { n: 2, v: 'c' },
      { n: 3, v: 'd' },
    ]);
    const offset = await client!.query("SELECT position, ordinal FROM wire_offsets WHERE pipeline = 'upsert-eo'");
    expect(offset.rows).toEqual([{ position: 3, ordinal: '1' }]);
  });

  it('a batch over rows_per_statement is one transaction: a failing statement leaves neither rows nor position', async () => {
    const name = await table('n integer CHECK (n <> 4)');
    const s = await sink({ table: name, columns: ['n'], rows_per_statement: 2 }, 'several');
    // Three statements; the third (rows 4 and 5) fails, after two succeeded.
    await expect(s.write(batch(0, 6))).rejects.toThrow(/check constraint/);
    expect(await select(name)).toEqual([]);
    expect((await client!.query("SELECT * FROM wire_offsets WHERE pipeline = 'several'")).rows).toEqual([]);
    await s.write(batch(5, 8));
    expect((await select(name)).map((r) => (r as { n: number }).n)).toEqual([5, 6, 7]);
    const offset = await client!.query("SELECT position, ordinal FROM wire_offsets WHERE pipeline = 'several'");
    expect(offset.rows).toEqual([{ position: 7, ordinal: '1' }]);
  });

  it('a failing single-statement batch stores no position, and its records are written by the next try', async () => {
    const name = await table('n integer CHECK (n <> 2)');
    const s = await sink({ table: name, columns: ['n'] }, 'single-fails');
    await expect(s.write(batch(0, 3))).rejects.toThrow(/check constraint/);
    expect((await client!.query("SELECT * FROM wire_offsets WHERE pipeline = 'single-fails'")).rows).toEqual([]);
    await s.write(batch(0, 2));
    expect((await select(name)).map((r) => (r as { n: number }).n)).toEqual([0, 1]);
  });

  it("exactly-once in a cluster: each task keeps its own position, so one task's records are not skipped by another's", async () => {
    const name = await table('n integer');
    const first = await sink({ table: name, columns: ['n'] }, 'tasks', 'topic-0');
    await first.write(batch(100, 110));
    // Another partition of the same pipeline, its positions below the first's.
    const second = await sink({ table: name, columns: ['n'] }, 'tasks', 'topic-1');
    await second.write(batch(0, 5));
    expect((await select(name)).length).toBe(15);
    const offsets = await client!.query("SELECT partition, position FROM wire_offsets WHERE pipeline = 'tasks' ORDER BY partition");
    expect(offsets.rows).toEqual([
      { partition: 'topic-0', position: 109 },
      { partition: 'topic-1', position: 4 },
    ]);
  });

  it('a missing column is reported at open', async () => {
    const name = await table('n integer');
    await expect(sink({ table: name, columns: ['n', 'nope'] })).rejects.toThrow(`table ${name} has no column nope`);
  });
});
