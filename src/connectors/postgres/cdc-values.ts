import type { JsonValue } from '../../core/record.js';

// Type OIDs of pg_catalog (stable across versions): the types whose text form has a natural JSON value.
const BOOL = 16;
const INT8 = 20;
const INT2 = 21;
const INT4 = 23;
const OID = 26;
const FLOAT4 = 700;
const FLOAT8 = 701;
const JSON_TYPE = 114;
const JSONB = 3802;

/**
 * A column's value as JSON, from Postgres's text form (what pgoutput sends and what the snapshot reads, so a row
 * looks the same in both): booleans, integers and floats as numbers (a bigint beyond ±2^53, NaN and Infinity stay
 * text, as does `numeric`, to stay exact), json/jsonb parsed, anything else as Postgres writes it.
 */
export function columnJson(typeOid: number, text: string): JsonValue {
  switch (typeOid) {
    case BOOL:
      return text === 't';
    case INT2:
    case INT4:
    case OID:
      return Number(text);
    case INT8: {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : text;
    }
    case FLOAT4:
    case FLOAT8: {
      const n = Number(text);
      return Number.isFinite(n) ? n : text;
    }
    case JSON_TYPE:
    case JSONB:
      return JSON.parse(text) as JsonValue;
    default:
      return text;
  }
}

/** A row's record key: its key column's value as text, or the JSON array of several; undefined without key columns. */
export function rowKey(row: Readonly<Record<string, JsonValue>>, keyColumns: readonly string[]): string | undefined {
  if (keyColumns.length === 0) return undefined;
  if (keyColumns.length === 1) {
    const value = row[keyColumns[0]!];
    return value === undefined ? undefined : typeof value === 'string' ? value : JSON.stringify(value);
  }
  return JSON.stringify(keyColumns.map((c) => row[c] ?? null));
}
