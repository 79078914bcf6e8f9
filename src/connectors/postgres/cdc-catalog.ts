import type { Client } from 'pg';
import { WireError } from '../../core/errors.js';
import { quoteIdentifier } from './sql.js';

/** A captured table as the catalog names it, with the columns that identify its rows. */
export interface CapturedTable {
  readonly oid: number;
  /** `schema.table`, as records name it. */
  readonly name: string;
  /** The primary key's columns, in key order (empty without one). */
  readonly key: readonly string[];
}

/**
 * The configured tables, checked: each must exist, and must be able to say which row an update or delete touched
 * (a primary key, or REPLICA IDENTITY FULL or USING INDEX). Postgres refuses updates and deletes on a published
 * table that cannot, which would break the application writing to it.
 */
export async function resolveTables(client: Client, tables: readonly string[]): Promise<CapturedTable[]> {
  const resolved: CapturedTable[] = [];
  for (const table of tables) {
    const found = await client.query<{ oid: number; name: string; identity: string; key: string[] | null }>(
      `SELECT c.oid::int AS oid, n.nspname || '.' || c.relname AS name, c.relreplident AS identity,
              (SELECT array_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum))
                 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                WHERE i.indrelid = c.oid AND i.indisprimary) AS key
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p')`,
      [quoteIdentifier(table)],
    );
    const row = found.rows[0];
    if (row === undefined) throw new WireError('INVALID_INPUT', `postgres cdc source: table ${table} does not exist`, { table });
    const key = row.key ?? [];
    if ((row.identity === 'd' && key.length === 0) || row.identity === 'n') {
      throw new WireError(
        'INVALID_INPUT',
        `postgres cdc source: table ${row.name} has no replica identity (no primary key, or REPLICA IDENTITY NOTHING): ` +
          `Postgres would refuse its updates and deletes once published. Add a primary key, or ALTER TABLE ${row.name} REPLICA IDENTITY FULL`,
        { table: row.name },
      );
    }
    resolved.push({ oid: row.oid, name: row.name, key });
  }
  return resolved;
}

/** Makes sure `publication` exists and publishes every table: created when missing if allowed, else required. */
export async function ensurePublication(client: Client, publication: string, tables: readonly CapturedTable[], create: boolean): Promise<void> {
  const exists = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [publication]);
  if (exists.rowCount === 0) {
    if (!create) {
      throw new WireError('NOT_FOUND', `postgres cdc source: publication ${publication} does not exist (create_publication is false)`, { publication });
    }
    await client.query(`CREATE PUBLICATION ${quoteIdentifier(publication)} FOR TABLE ${tables.map((t) => quoteIdentifier(t.name)).join(', ')}`);
    return;
  }
  const published = await client.query<{ name: string }>(
    "SELECT schemaname || '.' || tablename AS name FROM pg_publication_tables WHERE pubname = $1",
    [publication],
  );
  const names = new Set(published.rows.map((r) => r.name));
  const missing = tables.filter((t) => !names.has(t.name)).map((t) => t.name);
  if (missing.length > 0) {
    throw new WireError('INVALID_INPUT', `postgres cdc source: publication ${publication} does not publish ${missing.join(', ')}`, { publication, missing });
  }
}

export interface SlotState {
  readonly plugin: string;
  readonly active: boolean;
}

export async function slotState(client: Client, slot: string): Promise<SlotState | undefined> {
  const found = await client.query<{ plugin: string | null; active: boolean }>(
    'SELECT plugin, active FROM pg_replication_slots WHERE slot_name = $1 AND database = current_database()',
    [slot],
  );
  const row = found.rows[0];
  if (row === undefined) return undefined;
  if (row.plugin !== 'pgoutput') {
    throw new WireError('INVALID_INPUT', `postgres cdc source: replication slot ${slot} exists with plugin ${row.plugin ?? '(physical)'}, not pgoutput`, { slot });
  }
  return { plugin: row.plugin, active: row.active };
}

export async function dropSlot(client: Client, slot: string): Promise<void> {
  await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
}
