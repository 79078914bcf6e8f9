import { setTimeout as sleep } from 'node:timers/promises';
import { Type, type Static } from '@sinclair/typebox';
import type { Pool, PoolClient } from 'pg';
import { RecordsRefused, WireError } from '../../core/errors.js';
import type { ComponentDefinition, ConfigProblem, Sink, SinkOpenOptions } from '../../core/ports.js';
import type { Batch, Position, WireRecord } from '../../core/record.js';
import { resolveConfig } from '../config.js';
import { isTransient, postgresEndpoint, postgresError } from './errors.js';
import { createOffsetsTable, OFFSET_PARAMETERS, offsetParameters, offsetUpsert, readOffset, type CommittedOffset } from './offsets.js';
import { comparePositions } from './position-order.js';
import { InsertStatements, quoteIdentifier, rowsPerStatement } from './sql.js';

export const PostgresSinkSchema = Type.Object(
  {
    dsn: Type.String({
      // A `${...}` reference is resolved later (on load, or on the node that runs the task).
      pattern: '^(postgres(ql)?://|\\$\\{)',
      'x-wire-secret': true,
      description: 'The database, as `postgres://user[:password]@host:port/database` (query parameters as `pg` takes them, e.g. `?sslmode=require`).',
    }),
    password: Type.Optional(Type.String({ 'x-wire-secret': true, description: 'The password, when it is not in the dsn (e.g. `${file:/run/secrets/pg}`).' })),
    table: Type.String({ minLength: 1, description: 'The table to write to (`schema.table` allowed); it must exist.' }),
    columns: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: 'The columns written, each from the record\'s value field of the same name (objects and arrays as JSON).',
    }),
    key: Type.Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        minItems: 1,
        description:
          'Columns of a unique key: a row whose key exists updates it (`INSERT … ON CONFLICT (key) DO UPDATE`, an upsert). Each must be one of `columns`.',
      }),
    ),
    exactly_once: Type.Boolean({
      default: true,
      description:
        'Store the position of the last record written in `offsets_table`, in the same transaction as the rows, and skip on a restart what was already committed. ' +
        'Needs a source with ordered positions (file, generate, http, redis) and `parallelism: 1`.',
    }),
    offsets_table: Type.String({ minLength: 1, default: 'wire_offsets', description: 'Where exactly-once keeps its positions (created when missing).' }),
    rows_per_statement: Type.Integer({
      minimum: 1,
      default: 4096,
      description: 'Most rows in one INSERT statement: a batch that fits is one statement (its own transaction), a larger one takes several in one transaction.',
    }),
    prepared_statements: Type.Boolean({
      default: true,
      description:
        'Send a batch of a row count seen before as a named prepared statement, parsed once per connection. Set false behind a pooler that does not keep them (PgBouncer in transaction mode before 1.21, or without `max_prepared_statements`).',
    }),
    pool_size: Type.Integer({ minimum: 1, default: 2, description: 'Most connections held.' }),
    reconnect_attempts: Type.Integer({
      minimum: 0,
      default: 20,
      description: 'Connections tried again, with backoff (doubling from 100 ms up to 2 s), when the server is unreachable or restarting, before the write fails.',
    }),
  },
  { additionalProperties: false },
);

export type PostgresSinkConfig = Static<typeof PostgresSinkSchema>;

/**
 * Writes each batch in one transaction of multi-row INSERTs (upserts with `key`), a single statement when it fits
 * one; `write` resolves after COMMIT. With `exactly_once` the transaction also stores the last record's position
 * (`offsets.ts`): on open, and after any failed write (a COMMIT whose answer was lost may have committed), the sink
 * reads it back and skips the records already committed, so a replay after a crash or a retry writes each record once.
 */
export class PostgresSink implements Sink {
  /** Rows take the value's fields: no JSON of the whole value is ever written. */
  readonly writesFields = true;
  private pool: Pool | undefined;
  private readonly endpoint: string;
  private pipeline = '';
  /** The task's source partition in a cluster (each task keeps its own position), `''` for a whole pipeline. */
  private partition = '';
  private committed: CommittedOffset | undefined;
  /** The stored offset must be read again before the next write (at open, and after a failed one). */
  private reload = true;
  /** Records at the committed position seen again since the reload (skipped up to its ordinal). */
  private seenAtCommitted = 0;
  private signal: AbortSignal = new AbortController().signal;
  /** Pooled connections given an error listener (pg reuses them). */
  private readonly guarded = new WeakSet<PoolClient>();
  private readonly statements: InsertStatements;

  constructor(private readonly config: PostgresSinkConfig) {
    this.endpoint = postgresEndpoint(config.dsn);
    this.statements = new InsertStatements(config.table, config.columns, config.key ?? [], (first) => offsetUpsert(config.offsets_table, first), config.prepared_statements);
  }

  async open(options: SinkOpenOptions): Promise<void> {
    this.pipeline = options.pipeline;
    this.partition = options.partition ?? '';
    this.signal = options.signal;
    // pg is imported here, not with the module: a run loads the registry whether or not it uses postgres.
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({
      connectionString: this.config.dsn,
      ...(this.config.password === undefined ? {} : { password: this.config.password }),
      max: this.config.pool_size,
      connectionTimeoutMillis: 10_000,
      application_name: `wire:${options.pipeline}`,
    });
    // An idle connection the server ends (a restart) is dropped from the pool; the next write connects again.
    pool.on('error', () => {});
    this.pool = pool;
    try {
      const client = await this.connect();
      try {
        await this.checkTable(client);
        if (this.config.exactly_once) await createOffsetsTable(client, this.config.offsets_table);
      } finally {
        client.release();
      }
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /**
   * Writes the batch's rows (with exactly_once, those not yet committed). A record whose value is not an object has no
   * columns to give: it is refused (to `on_error`), and the rest of its batch is written.
   */
  async write(batch: Batch): Promise<void> {
    const refused = notRows(batch);
    const rows = refused === undefined ? batch : batch.filter((record) => !refused.has(record));
    for (let attempt = 0; rows.length > 0; attempt++) {
      const client = await this.connect();
      try {
        await this.writeOnce(client, rows);
        client.release();
        break;
      } catch (error) {
        this.reload = true;
        client.release(true);
        if (!isTransient(error) || attempt >= this.config.reconnect_attempts) throw postgresError('write', this.endpoint, error);
        await this.backoff(attempt + 1);
      }
    }
    if (refused !== undefined) {
      const reason = new WireError('INVALID_INPUT', `postgres sink: a record's value must be an object with the columns' fields (table ${this.config.table})`, { table: this.config.table });
      throw new RecordsRefused([...refused], reason);
    }
  }

  /** Every write is committed by the time it resolves: nothing is left to flush. */
  async flush(): Promise<void> {}

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    await pool?.end();
  }

  private async writeOnce(client: PoolClient, batch: readonly WireRecord[]): Promise<void> {
    const { exactly_once: exactlyOnce, offsets_table: offsetsTable } = this.config;
    if (exactlyOnce && this.reload) {
      this.committed = await readOffset(client, offsetsTable, this.pipeline, this.partition);
      this.seenAtCommitted = 0;
      this.reload = false;
    }
    const { records, tail } = exactlyOnce ? this.uncommitted(batch) : { records: batch, tail: undefined };
    if (records.length === 0) return;
    await this.insert(client, records, tail);
    if (tail !== undefined) {
      this.committed = tail;
      this.seenAtCommitted = tail.ordinal;
    }
  }

  /**
   * The records of `batch` not yet committed, and the offset to store with them. Positions must not go back:
   * with several lanes they would, and what is committed could no longer be told by one position.
   */
  private uncommitted(batch: readonly WireRecord[]): { records: WireRecord[]; tail: CommittedOffset | undefined } {
    const records: WireRecord[] = [];
    const committed = this.committed;
    // The tail as two locals, not an object per record: a batch of distinct positions made 1,024 of them.
    let haveTail = committed !== undefined;
    let tailPosition: Position | undefined = committed?.position;
    let tailOrdinal = committed?.ordinal ?? 0;
    for (const record of batch) {
      const position = record.position;
      if (committed !== undefined) {
        const order = this.order(position, committed.position);
        if (order < 0) continue;
        if (order === 0 && this.seenAtCommitted < committed.ordinal) {
          this.seenAtCommitted++;
          continue;
        }
      }
      if (!haveTail) {
        haveTail = true;
        tailPosition = position;
        tailOrdinal = 1;
      } else {
        const order = this.order(position, tailPosition as Position);
        if (order < 0) {
          throw new WireError(
            'INVALID_INPUT',
            `postgres sink: record at ${JSON.stringify(position)} came after ${JSON.stringify(tailPosition)}: exactly_once needs records in position order (parallelism: 1), or set exactly_once: false`,
          );
        }
        if (order === 0) tailOrdinal++;
        else {
          tailPosition = position;
          tailOrdinal = 1;
        }
      }
      records.push(record);
    }
    return { records, tail: records.length === 0 ? undefined : { position: tailPosition!, ordinal: tailOrdinal } };
  }

  private order(a: Position | undefined, b: Position): number {
    const order = comparePositions(a, b);
    if (order === undefined) {
      throw new WireError(
        'INVALID_INPUT',
        `postgres sink: exactly_once cannot order the source's positions (${JSON.stringify(a ?? null)}); use a source with ordered positions or set exactly_once: false`,
      );
    }
    return order;
  }

  /**
   * The rows, and `tail` in the offsets table, in one transaction. The offset rides on the last INSERT (a `WITH`), so
   * a batch that fits one statement is that statement alone: its own transaction, committed before its answer.
   */
  private async insert(client: PoolClient, batch: readonly WireRecord[], tail: CommittedOffset | undefined): Promise<void> {
    const { columns, key = [] } = this.config;
    // An upsert statement may not touch one row twice: of records with the same key, the last one is written.
    const records = key.length === 0 ? batch : lastByKey(batch, key);
    const per = rowsPerStatement(columns.length, this.config.rows_per_statement, OFFSET_PARAMETERS);
    const several = records.length > per;
    if (several) await client.query('BEGIN');
    try {
      for (let start = 0; start < records.length; start += per) {
        const end = Math.min(records.length, start + per);
        const withOffset = end === records.length && tail !== undefined;
        // Sized once: a batch's values were 2,000+ pushes into a growing array.
        const values: unknown[] = new Array<unknown>((end - start) * columns.length + (withOffset ? OFFSET_PARAMETERS : 0));
        let v = 0;
        for (let r = start; r < end; r++) {
          // An object: `write` refused every other record.
          const value = records[r]!.value as Record<string, unknown>;
          for (let c = 0; c < columns.length; c++) values[v++] = columnValue(value[columns[c]!]);
        }
        if (withOffset) for (const parameter of offsetParameters(this.pipeline, this.partition, tail)) values[v++] = parameter;
        const { name, text } = this.statements.get(end - start, withOffset);
        await client.query(name === undefined ? { text, values } : { name, text, values });
      }
      if (several) await client.query('COMMIT');
    } catch (error) {
      if (several) await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** A pooled connection, trying again with backoff while the server is unreachable or starting. */
  private async connect(): Promise<PoolClient> {
    const pool = this.pool;
    if (pool === undefined) throw new WireError('UNAVAILABLE', 'postgres sink is closed');
    for (let attempt = 0; ; attempt++) {
      try {
        const client = await pool.connect();
        // The server may end a connection between two queries (a restart): pg then emits 'error' on the client,
        // which is fatal unhandled. The next query fails instead, and the write is retried on a new connection.
        if (!this.guarded.has(client)) {
          this.guarded.add(client);
          client.on('error', () => {});
        }
        return client;
      } catch (error) {
        if (!isTransient(error) || attempt >= this.config.reconnect_attempts) {
          throw postgresError(attempt === 0 ? 'connect' : `connect (after ${attempt} retries)`, this.endpoint, error);
        }
        await this.backoff(attempt + 1);
      }
    }
  }

  private async backoff(attempt: number): Promise<void> {
    try {
      await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt - 1, 10)), undefined, { signal: this.signal });
    } catch {
      throw new WireError('UNAVAILABLE', `postgres at ${this.endpoint}: stopped while waiting to reconnect`);
    }
  }

  /** The table must exist and have every configured column: said at open, not at the first write. */
  private async checkTable(client: PoolClient): Promise<void> {
    const { table, columns } = this.config;
    const found = await client.query<{ exists: string | null }>('SELECT to_regclass($1)::text AS exists', [quoteIdentifier(table)]);
    if (found.rows[0]?.exists === null || found.rows[0] === undefined) {
      throw new WireError('INVALID_INPUT', `postgres at ${this.endpoint}: table ${table} does not exist`, { table });
    }
    const probe = await client.query(`SELECT * FROM ${quoteIdentifier(table)} LIMIT 0`);
    const have = new Set(probe.fields.map((f) => f.name));
    const missing = columns.filter((c) => !have.has(c));
    if (missing.length > 0) {
      throw new WireError('INVALID_INPUT', `postgres at ${this.endpoint}: table ${table} has no column ${missing.join(', ')}`, { table, missing });
    }
  }
}

/** The records of `batch` whose value is not an object (no fields to make a row of), or undefined when there are none. */
function notRows(batch: Batch): Set<WireRecord> | undefined {
  let refused: Set<WireRecord> | undefined;
  for (let i = 0; i < batch.length; i++) {
    const value = batch[i]!.value;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) (refused ??= new Set()).add(batch[i]!);
  }
  return refused;
}

/** Objects and arrays go as JSON text (for json/jsonb columns); a missing field is NULL. */
function columnValue(value: unknown): unknown {
  if (value === undefined) return null;
  return value !== null && typeof value === 'object' ? JSON.stringify(value) : value;
}

function lastByKey(records: readonly WireRecord[], key: readonly string[]): WireRecord[] {
  const byKey = new Map<string, WireRecord>();
  for (const record of records) {
    const value = record.value as Record<string, unknown> | null;
    const id = JSON.stringify(key.map((k) => (value !== null && typeof value === 'object' ? value[k] : undefined) ?? null));
    // Deleted first, so the map's order is that of each key's last record.
    byKey.delete(id);
    byKey.set(id, record);
  }
  return [...byKey.values()];
}

function checkPostgres(config: Record<string, unknown>): ConfigProblem[] {
  const { columns, key } = config;
  if (!Array.isArray(columns) || !Array.isArray(key)) return [];
  return key.flatMap((k, i) => (columns.includes(k) ? [] : [{ path: `key.${i}`, message: `key column '${String(k)}' is not one of columns` }]));
}

export const postgresSinkDefinition: ComponentDefinition<Record<string, unknown>, Sink> = {
  kind: 'sink',
  type: 'postgres',
  description:
    'Writes records as rows of a PostgreSQL table: batched multi-row INSERTs in one transaction per batch, upserts on a key, exactly-once by storing the source position in that transaction.',
  schema: PostgresSinkSchema,
  example: { dsn: 'postgres://wire@127.0.0.1:5432/shop', password: '${env:PGPASSWORD}', table: 'orders', columns: ['id', 'user', 'amount'], key: ['id'] },
  check: checkPostgres,
  create: (config) => new PostgresSink(resolveConfig('postgres sink', PostgresSinkSchema, config)),
  notes: [
    'Delivery: exactly-once with `exactly_once` (the default). Each batch is one transaction: its INSERTs and the position of',
    'its last record in `offsets_table` (keyed by pipeline and partition: a cluster task\'s source partition, else empty), so',
    'rows and position commit together and `write` resolves after COMMIT. The position is stored by the last INSERT itself',
    '(a `WITH`), so a batch of at most `rows_per_statement` rows is a single statement, one round trip, committed as its own',
    'transaction. A statement of a row count seen before is a named prepared statement (at most eight): the server parses and',
    'plans it once per connection, and each batch then sends only its values (`prepared_statements: false` turns this off, for',
    'a pooler that does not keep prepared statements). On open, and after any failed write (a COMMIT whose answer was lost may have committed), the sink',
    'reads the position back and skips the records up to it that a replay brings again. This needs a source whose positions',
    'can be ordered (file, generate, http, redis) and records in that order (`parallelism: 1`); the sink refuses others with',
    'a clear error. With `exactly_once: false` it is at-least-once (use `key` to make a replay overwrite instead of repeat).',
    'A bad dsn, wrong credentials, a missing table or column fail the run at open; an unreachable or restarting server is',
    'retried with backoff (`reconnect_attempts`), then fails the run naming the server (never the password). A record whose',
    'value is not an object (no fields for the columns) goes to `on_error` alone and the rest of its batch is written; a row',
    'the server refuses (a constraint, a type) fails its whole batch, which is retried and then goes to `on_error` whole.',
    '',
    'Tested against a real PostgreSQL 15 (test/connectors/postgres*.test.ts): 100,000 records with a kill -9 after a checkpoint',
    'and rows committed past it (zero duplicates, none missing), and a server restart mid-run (zero duplicates, none missing).',
    'Runnable example: `examples/redis-to-postgres.yaml`.',
  ].join('\n'),
};
