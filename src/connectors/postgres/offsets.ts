import type { PoolClient } from 'pg';
import type { Position } from '../../core/record.js';
import { quoteIdentifier } from './sql.js';

/**
 * What a postgres sink committed last, kept in the same transaction as the rows: the position of the last record
 * written and how many records with that same position were written (a split record's pieces share it).
 */
export interface CommittedOffset {
  readonly position: Position;
  readonly ordinal: number;
}

export async function createOffsetsTable(client: PoolClient, table: string): Promise<void> {
  await client.query(
    `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(table)} (pipeline text NOT NULL, partition text NOT NULL, position jsonb NOT NULL, ` +
      'ordinal bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (pipeline, partition))',
  );
}

export async function readOffset(client: PoolClient, table: string, pipeline: string, partition: string): Promise<CommittedOffset | undefined> {
  const result = await client.query<{ position: Position; ordinal: string }>(
    `SELECT position, ordinal FROM ${quoteIdentifier(table)} WHERE pipeline = $1 AND partition = $2`,
    [pipeline, partition],
  );
  const row = result.rows[0];
  return row === undefined ? undefined : { position: row.position, ordinal: Number(row.ordinal) };
}

/** Parameters `offsetUpsert` takes. */
export const OFFSET_PARAMETERS = 4;

/**
 * A data-modifying `WITH` that stores `offset` (parameters `$first` to `$first + 3`, see `offsetParameters`): put in
 * front of the INSERT of the rows, it commits with them, and a batch that fits one statement is one round trip.
 */
export function offsetUpsert(table: string, first: number): string {
  return (
    `WITH wire_offset AS (INSERT INTO ${quoteIdentifier(table)} (pipeline, partition, position, ordinal, updated_at) ` +
    `VALUES ($${first}, $${first + 1}, $${first + 2}, $${first + 3}, now()) ` +
    'ON CONFLICT (pipeline, partition) DO UPDATE SET position = EXCLUDED.position, ordinal = EXCLUDED.ordinal, updated_at = now()) '
  );
}

export function offsetParameters(pipeline: string, partition: string, offset: CommittedOffset): unknown[] {
  return [pipeline, partition, JSON.stringify(offset.position), offset.ordinal];
}
