/** A table or column name as SQL: each dot-separated part double-quoted (`public.orders` → `"public"."orders"`). */
export function quoteIdentifier(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replaceAll('"', '""')}"`)
    .join('.');
}

/** Postgres takes at most 65,535 parameters in one statement. */
const MAX_PARAMETERS = 65_535;

/**
 * `INSERT INTO t (c1, c2) VALUES ($1, $2), ($3, $4) …` for `rows` rows, with, when `key` names columns,
 * `ON CONFLICT (key) DO UPDATE SET` every other column (an upsert; `DO NOTHING` when every column is in the key),
 * after `prefix` (a `WITH`, whose parameters follow the rows').
 */
export function insertStatement(table: string, columns: readonly string[], rows: number, key: readonly string[], prefix = ''): string {
  const names = columns.map(quoteIdentifier).join(', ');
  const tuples: string[] = new Array<string>(rows);
  let n = 1;
  for (let r = 0; r < rows; r++) {
    const params: string[] = new Array<string>(columns.length);
    for (let c = 0; c < columns.length; c++) params[c] = `$${n++}`;
    tuples[r] = `(${params.join(', ')})`;
  }
  let sql = `${prefix}INSERT INTO ${quoteIdentifier(table)} (${names}) VALUES ${tuples.join(', ')}`;
  if (key.length > 0) {
    const others = columns.filter((c) => !key.includes(c));
    sql +=
      ` ON CONFLICT (${key.map(quoteIdentifier).join(', ')}) DO ` +
      (others.length === 0 ? 'NOTHING' : `UPDATE SET ${others.map((c) => `${quoteIdentifier(c)} = EXCLUDED.${quoteIdentifier(c)}`).join(', ')}`);
  }
  return sql;
}

/** The most rows one statement of `columns` columns may carry, `reserved` parameters kept for other uses. */
export function rowsPerStatement(columns: number, wanted: number, reserved: number): number {
  return Math.max(1, Math.min(wanted, Math.floor((MAX_PARAMETERS - reserved) / columns)));
}
