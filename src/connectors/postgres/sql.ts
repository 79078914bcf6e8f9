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

/** An INSERT's text, and its name when it is a prepared statement of the connection (see `InsertStatements`). */
export interface InsertQuery {
  readonly name: string | undefined;
  readonly text: string;
}

/** Most shapes (row count, with or without the offset prefix) a sink keeps as named prepared statements. */
const MAX_NAMED = 8;

/**
 * The INSERT texts of one sink, built once per shape. A shape seen a second time (a sink's batches mostly have the
 * same size) gets a name, and `pg` prepares it once per connection: later batches of that size send only their
 * values (Bind and Execute), and the server skips parsing and analysing a statement of thousands of parameters each
 * time. At most `MAX_NAMED` shapes are named (each holds a parsed statement on every connection); others stay unnamed.
 */
export class InsertStatements {
  private readonly shapes = new Map<string, { text: string; name: string | undefined; uses: number }>();
  private named = 0;

  constructor(
    private readonly table: string,
    private readonly columns: readonly string[],
    private readonly key: readonly string[],
    private readonly prefix: (firstParameter: number) => string,
    /** False: no shape is named (a pooler that does not keep prepared statements). */
    private readonly prepare = true,
  ) {}

  /** The INSERT of `rows` rows, with the offset prefix (its parameters after the rows') when `withPrefix`. */
  get(rows: number, withPrefix: boolean): InsertQuery {
    const id = `${rows}${withPrefix ? '+' : ''}`;
    let shape = this.shapes.get(id);
    if (shape === undefined) {
      const prefix = withPrefix ? this.prefix(rows * this.columns.length + 1) : '';
      shape = { text: insertStatement(this.table, this.columns, rows, this.key, prefix), name: undefined, uses: 0 };
      // Unnamed shapes seen once are not kept beyond a bound either: a stream of odd batch sizes stays small.
      if (this.shapes.size >= 4 * MAX_NAMED) this.forgetUnnamed();
      this.shapes.set(id, shape);
    }
    shape.uses++;
    if (this.prepare && shape.name === undefined && shape.uses >= 2 && this.named < MAX_NAMED) shape.name = `wire_insert_${++this.named}`;
    return shape;
  }

  private forgetUnnamed(): void {
    for (const [id, shape] of this.shapes) if (shape.name === undefined) this.shapes.delete(id);
  }
}
