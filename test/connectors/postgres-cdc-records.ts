// What the postgres CDC tests change and check: numbered rows whose payload depends on the number, and the change
// records expected for them, so every record read back is checked by its whole content and counted.
import type { Client } from 'pg';
import { payloadOf } from './redis-records.js';

export interface Workload {
  /** Rows 0..snapshot-1 exist before the pipeline starts: read by the snapshot. */
  readonly snapshot: number;
  /** Rows snapshot..total-1 are inserted while it runs. */
  readonly total: number;
  /** Rows 0..updated-1 are then updated (payload prefixed with `u`). */
  readonly updated: number;
  /** Rows updated..deletedTo-1 are then deleted. */
  readonly deletedTo: number;
}

export async function createTable(client: Client, table: string): Promise<void> {
  await client.query(`CREATE TABLE ${table} (n integer PRIMARY KEY, payload text NOT NULL)`);
}

/** Inserts rows from..to-1 in transactions of `per` rows. */
export async function insertRows(client: Client, table: string, from: number, to: number, per = 1000): Promise<void> {
  for (let start = from; start < to; start += per) {
    const end = Math.min(to, start + per);
    await client.query(`INSERT INTO ${table} (n, payload) SELECT n, 'p' || ((n * 7919) % 100003) FROM generate_series($1::int, $2::int) AS n`, [start, end - 1]);
  }
}

/** The changes after the snapshot: inserts, then updates, then deletes, in transactions of at most 1000 rows. */
export async function applyChanges(client: Client, table: string, w: Workload): Promise<void> {
  await insertRows(client, table, w.snapshot, w.total);
  for (let start = 0; start < w.updated; start += 1000) {
    await client.query(`UPDATE ${table} SET payload = 'u' || payload WHERE n >= $1 AND n < $2`, [start, Math.min(w.updated, start + 1000)]);
  }
  for (let start = w.updated; start < w.deletedTo; start += 1000) {
    await client.query(`DELETE FROM ${table} WHERE n >= $1 AND n < $2`, [start, Math.min(w.deletedTo, start + 1000)]);
  }
}

export interface CdcTally {
  readonly expected: number;
  readonly missing: string[];
  readonly duplicates: number;
  readonly wrong: string[];
}

interface Change {
  op?: unknown;
  table?: unknown;
  before?: { n?: unknown; payload?: unknown } | null;
  after?: { n?: unknown; payload?: unknown } | null;
}

/** The record a change must be, by its op and row number, or undefined when no such change was made. */
function expectedOf(op: string, n: number, w: Workload, table: string): Change | undefined {
  const row = { n, payload: payloadOf(n) };
  if (op === 'snapshot' && n < w.snapshot) return { op, table, before: null, after: row };
  if (op === 'insert' && n >= w.snapshot && n < w.total) return { op, table, before: null, after: row };
  // Default replica identity: an update's old row is not sent (the key did not change); a delete sends the key.
  if (op === 'update' && n < w.updated) return { op, table, before: null, after: { n, payload: `u${payloadOf(n)}` } };
  if (op === 'delete' && n >= w.updated && n < w.deletedTo) return { op, table, before: { n }, after: null };
  return undefined;
}

/** Checks every line against the workload's changes (`table` as records name it, `public.src`). */
export function tallyChanges(lines: Iterable<string>, w: Workload, table: string, snapshotTaken = true): CdcTally {
  const seen = new Map<string, number>();
  const wrong: string[] = [];
  for (const line of lines) {
    const change = JSON.parse(line) as Change;
    const n = (change.after ?? change.before)?.n;
    const expected = typeof change.op === 'string' && typeof n === 'number' ? expectedOf(change.op, n, w, table) : undefined;
    const { op, table: t, before, after } = change;
    if (expected === undefined || JSON.stringify({ op, table: t, before, after }) !== JSON.stringify(expected)) {
      if (wrong.length < 5) wrong.push(line);
      continue;
    }
    const id = `${String(op)}:${String(n)}`;
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  const missing: string[] = [];
  let expected = 0;
  const want = (id: string): void => {
    expected++;
    if (!seen.has(id) && missing.length < 20) missing.push(id);
  };
  if (snapshotTaken) for (let n = 0; n < w.snapshot; n++) want(`snapshot:${n}`);
  for (let n = w.snapshot; n < w.total; n++) want(`insert:${n}`);
  for (let n = 0; n < w.updated; n++) want(`update:${n}`);
  for (let n = w.updated; n < w.deletedTo; n++) want(`delete:${n}`);
  let duplicates = 0;
  for (const count of seen.values()) duplicates += count - 1;
  return { expected, missing, duplicates, wrong };
}
