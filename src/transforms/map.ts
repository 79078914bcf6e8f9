import { Type, type Static } from '@sinclair/typebox';
import { WireError } from '../core/errors.js';
import type { Batch } from '../core/record.js';
import type { ComponentDefinition, ConfigProblem, Transform, TransformContext } from '../core/ports.js';
import { expressionProblems, fieldPathProblems } from './check.js';
import { typeName } from './expr/errors.js';
import { compileExpression, type CompiledExpression } from './expr/index.js';
import { assertWritable, deleteField, getField, isPlainObject, parseFieldPath, setField } from './field-path.js';

const schema = Type.Object(
  {
    set: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: 'Field path → expression. Every expression reads the record as it came in.',
      }),
    ),
    remove: Type.Optional(Type.Array(Type.String(), { description: 'Field paths to delete.' })),
    rename: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Field path → new field path.' })),
  },
  { additionalProperties: false },
);

type MapConfig = Static<typeof schema>;

interface Assignment {
  readonly path: string;
  readonly segments: readonly string[];
  readonly expr: CompiledExpression;
}

interface Move {
  readonly from: readonly string[];
  readonly to: readonly string[];
  readonly toPath: string;
}

function check(config: MapConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const set = config.set ?? {};
  const rename = config.rename ?? {};
  const remove = config.remove ?? [];
  if (Object.keys(set).length + Object.keys(rename).length + remove.length === 0) {
    problems.push({ path: '', message: 'map needs at least one of set, remove or rename' });
  }
  for (const [path, expr] of Object.entries(set)) {
    problems.push(...fieldPathProblems(`set.${path}`, path), ...expressionProblems(`set.${path}`, expr));
  }
  remove.forEach((path, i) => problems.push(...fieldPathProblems(`remove[${i}]`, path)));
  for (const [from, to] of Object.entries(rename)) {
    problems.push(...fieldPathProblems(`rename.${from}`, from), ...fieldPathProblems(`rename.${from}`, to));
  }
  return problems;
}

/** set, then rename, then remove; a record whose value cannot take them is rejected unchanged. */
class MapTransform implements Transform {
  private readonly assignments: readonly Assignment[];
  private readonly moves: readonly Move[];
  private readonly removals: readonly (readonly string[])[];
  // Reused for every record: `set` evaluates all its expressions before it writes any.
  private readonly results: unknown[];

  constructor(config: MapConfig) {
    this.assignments = Object.entries(config.set ?? {}).map(([path, source]) => ({
      path,
      segments: parseFieldPath(path),
      expr: compileExpression(source),
    }));
    this.moves = Object.entries(config.rename ?? {}).map(([from, to]) => ({
      from: parseFieldPath(from),
      to: parseFieldPath(to),
      toPath: to,
    }));
    this.removals = (config.remove ?? []).map((path) => parseFieldPath(path));
    this.results = new Array<unknown>(this.assignments.length);
  }

  process(batch: Batch, ctx: TransformContext): Batch {
    const out: Batch = [];
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i]!;
      try {
        const value = record.value;
        if (!isPlainObject(value)) throw new WireError('INVALID_INPUT', `map needs an object value, got ${typeName(value)}`);
        this.apply(value);
        record.markChanged();
        out.push(record);
      } catch (err) {
        ctx.reject(record, err);
      }
    }
    this.results.fill(null);
    return out;
  }

  private apply(value: Record<string, unknown>): void {
    const { assignments, results, moves } = this;
    for (let j = 0; j < assignments.length; j++) results[j] = assignments[j]!.expr(value);
    for (let j = 0; j < assignments.length; j++) assertWritable(value, assignments[j]!.segments, assignments[j]!.path);
    for (let j = 0; j < moves.length; j++) assertWritable(value, moves[j]!.to, moves[j]!.toPath);
    for (let j = 0; j < assignments.length; j++) {
      const result = results[j];
      // An object taken from elsewhere in the value is copied, so the two places never change together.
      setField(value, assignments[j]!.segments, typeof result === 'object' && result !== null ? structuredClone(result) : result);
    }
    for (let j = 0; j < moves.length; j++) {
      const move = moves[j]!;
      const moved = getField(value, move.from);
      if (moved === undefined) continue;
      deleteField(value, move.from);
      setField(value, move.to, moved);
    }
    for (let j = 0; j < this.removals.length; j++) deleteField(value, this.removals[j]!);
  }
}

export const mapDefinition: ComponentDefinition<MapConfig, Transform> = {
  kind: 'transform',
  type: 'map',
  description:
    'Sets fields from expressions, renames and removes fields (in that order). Paths may be nested (a.b); missing objects are created.',
  schema,
  example: { set: { user: 'upper(user)', total: 'amount * 1.2' }, remove: ['internal'], rename: { ts: 'timestamp' } },
  check,
  create: (config) => new MapTransform(config),
};
