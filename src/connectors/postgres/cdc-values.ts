import { WireError } from '../../core/errors.js';

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
 * A column's value as JSON text, from Postgres's text form (what pgoutput sends and what the snapshot reads, so a row
 * looks the same in both): booleans, integers and floats as numbers (a bigint beyond ±2^53, NaN and Infinity stay
 * strings, as does `numeric`, to stay exact), json/jsonb as they are, anything else as the string Postgres writes.
 * Written as text, no value object made: a sink writes the record as it is, and only a transform that reads it parses it.
 */
export function columnJsonText(typeOid: number, text: string): string {
  switch (typeOid) {
    case BOOL:
      if (text === 't') return 'true';
      if (text === 'f') return 'false';
      throw notItsType(typeOid, text);
    case INT2:
    case INT4:
    case OID:
      // Copied into the record's JSON as it is: anything but an integer would change the record's shape.
      if (!INTEGER.test(text)) throw notItsType(typeOid, text);
      return text;
    case INT8:
      if (!INTEGER.test(text)) throw notItsType(typeOid, text);
      return Number.isSafeInteger(Number(text)) ? text : JSON.stringify(text);
    case FLOAT4:
    case FLOAT8:
      return Number.isFinite(Number(text)) ? String(Number(text)) : JSON.stringify(text);
    case JSONB:
      // jsonb's text is canonical JSON on one line (a newline in a string is escaped), copied as it is; checked, as
      // the integers are: a server that sent anything else (`1,"admin":true`) would change the record's shape.
      if (LINE_BREAK.test(text) || !isJson(text)) throw notItsType(typeOid, text);
      return text;
    case JSON_TYPE:
      // json keeps its input as typed, line breaks included: written again so a record stays one line.
      try {
        return JSON.stringify(JSON.parse(text));
      } catch {
        throw notItsType(typeOid, text);
      }
    default:
      return JSON.stringify(text);
  }
}

const INTEGER = /^-?\d+$/;
const LINE_BREAK = /[\r\n]/;

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A value whose text is not of its column's type: the server (or something between) sent what Postgres never writes. */
function notItsType(typeOid: number, text: string): WireError {
  return new WireError('INTERNAL', `postgres cdc: a value of type ${typeOid} that is not one: ${JSON.stringify(text.slice(0, 100))}`, { typeOid });
}

/** `"name":` for each column, made once per table: a row's JSON is these and the values' texts. */
export function columnPrefixes(names: readonly string[]): string[] {
  return names.map((name) => `${JSON.stringify(name)}:`);
}

/** A row as a JSON object's text, from each column's JSON text (`undefined`: left out). */
export function rowJson(prefixes: readonly string[], values: readonly (string | undefined)[]): string {
  let json = '{';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === undefined) continue;
    json += json.length === 1 ? prefixes[i]! + value : `,${prefixes[i]!}${value}`;
  }
  return `${json}}`;
}

/**
 * A row's record key: its one key column's value (a string as itself, anything else as JSON), or the JSON array of
 * several; undefined without key columns.
 */
export function rowKey(values: readonly (string | undefined)[], keyIndexes: readonly number[]): string | undefined {
  if (keyIndexes.length === 0) return undefined;
  if (keyIndexes.length === 1) {
    const value = values[keyIndexes[0]!];
    return value === undefined ? undefined : value.charCodeAt(0) === 0x22 ? (JSON.parse(value) as string) : value;
  }
  return `[${keyIndexes.map((i) => values[i] ?? 'null').join(',')}]`;
}
