import { WireError } from '../../core/errors.js';
import type { Batch } from '../../core/record.js';
import type { Transform, TransformContext } from '../../core/ports.js';
import { typeName } from '../expr/errors.js';
import { compileExpression, type CompiledExpression } from '../expr/index.js';
import { assertWritable, deleteField, getField, isPlainObject, parseFieldPath, setField } from '../field-path.js';

/** A type, not an interface: configs are records of unknown fields to the registry. */
export type MapConfig = {
  readonly value?: string;
  readonly set?: Readonly<Record<string, string>>;
  readonly remove?: readonly string[];
  readonly rename?: Readonly<Record<string, string>>;
};

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

/** value, then set, rename and remove; a record whose value cannot take them is rejected unchanged. */
class MapTransform implements Transform {
  private readonly replacement: CompiledExpression | undefined;
  /** Only `value`: its result may be anything, not only an object. */
  private readonly replacesOnly: boolean;
  private readonly assignments: readonly Assignment[];
  private readonly moves: readonly Move[];
  private readonly removals: readonly (readonly string[])[];
  // Reused for every record: `set` evaluates all its expressions before it writes any.
  private readonly results: unknown[];

  constructor(config: MapConfig) {
    this.replacement = config.value === undefined ? undefined : compileExpression(config.value);
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
    this.replacesOnly = this.assignments.length + this.moves.length + this.removals.length === 0;
  }

  process(batch: Batch, ctx: TransformContext): Batch {
    const out: Batch = [];
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i]!;
      try {
        if (this.replacement !== undefined) {
          const replaced = this.replacement(record.value);
          if (this.replacesOnly) {
            record.value = replaced;
            out.push(record);
            continue;
          }
          // Checked before the record changes, so a rejected record goes to on_error as it came.
          if (!isPlainObject(replaced)) throw notAnObject(replaced);
          this.apply(replaced);
          record.value = replaced;
        } else {
          const value = record.value;
          if (!isPlainObject(value)) throw notAnObject(value);
          this.apply(value);
          record.markChanged();
        }
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

function notAnObject(value: unknown): WireError {
  // Text records (`format: lines`) are the usual cause: say how to make them objects.
  const hint = typeof value === 'string' ? ' (to read text as JSON, start the map with value: parse_json(this))' : '';
  return new WireError('INVALID_INPUT', `map needs an object value, got ${typeName(value)}${hint}`);
}

export function createMap(config: MapConfig): Transform {
  return new MapTransform(config);
}
