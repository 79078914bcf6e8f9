import type { Client, CustomTypesConfig } from 'pg';
import { WireRecord, type Batch } from '../../core/record.js';
import type { CapturedTable } from './cdc-catalog.js';
import { snapshotPosition } from './cdc-position.js';
import { columnJsonText, columnPrefixes, rowJson, rowKey } from './cdc-values.js';
import { quoteIdentifier } from './sql.js';

/** Every value as Postgres's text, as pgoutput sends it: both become JSON the same way (`columnJson`). */
const TEXT: CustomTypesConfig = { getTypeParser: () => (text: string) => text } as unknown as CustomTypesConfig;

/**
 * Imports the snapshot a slot was created with into a read-only transaction on `client`: the tables are then read as
 * they were at the slot's consistent point, and the stream goes on from exactly there.
 */
export async function beginSnapshot(client: Client, snapshotName: string): Promise<void> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  await client.query(`SET TRANSACTION SNAPSHOT '${snapshotName.replaceAll("'", "''")}'`);
}

/**
 * The rows of each table, as `snapshot` records, in batches of at most `max` read through a cursor (memory stays
 * bounded). The last row of the last table carries `last` in its position: a checkpoint at it says the snapshot is
 * complete. Ends the transaction.
 */
export async function* readSnapshot(client: Client, tables: readonly CapturedTable[], consistentPoint: string, max: number): AsyncGenerator<Batch> {
  let held: WireRecord[] | undefined;
  let heldTable = 0;
  for (let t = 0; t < tables.length; t++) {
    const table = tables[t]!;
    const tableJson = JSON.stringify(table.name);
    const lsnJson = JSON.stringify(consistentPoint);
    await client.query(`DECLARE wire_snapshot NO SCROLL CURSOR FOR SELECT * FROM ${quoteIdentifier(table.name)}`);
    let row = 0;
    for (;;) {
      const result = await client.query<(string | null)[]>({ text: `FETCH FORWARD ${max} FROM wire_snapshot`, rowMode: 'array', types: TEXT });
      if (result.rows.length === 0) break;
      const batch: WireRecord[] = [];
      const fields = result.fields;
      const prefixes = columnPrefixes(fields.map((f) => f.name));
      const keyIndexes = table.key.map((k) => fields.findIndex((f) => f.name === k));
      const values = new Array<string>(fields.length);
      for (const texts of result.rows) {
        for (let i = 0; i < fields.length; i++) {
          const text = texts[i];
          values[i] = text === null || text === undefined ? 'null' : columnJsonText(fields[i]!.dataTypeID, text);
        }
        const raw = `{"op":"snapshot","table":${tableJson},"lsn":${lsnJson},"before":null,"after":${rowJson(prefixes, values)}}`;
        const record = WireRecord.fromRaw(raw, snapshotPosition(consistentPoint, t, ++row, false));
        record.key = rowKey(values, keyIndexes);
        batch.push(record);
      }
      if (held !== undefined) yield held;
      held = batch;
      heldTable = t;
    }
    await client.query('CLOSE wire_snapshot');
  }
  await client.query('COMMIT');
  if (held !== undefined) {
    const last = held[held.length - 1]!;
    const { row } = last.position as { row: number };
    last.position = snapshotPosition(consistentPoint, heldTable, row, true);
    yield held;
  }
}
