import { Type, type Static } from '@sinclair/typebox';
import type { Batch } from '../core/record.js';
import type { ComponentDefinition, ConfigProblem, Transform, TransformContext } from '../core/ports.js';
import { fieldPathProblems } from './check.js';
import { getField, isPlainObject, parseFieldPath, setField, type PlainObject } from './field-path.js';

const schema = Type.Object(
  {
    fields: Type.Optional(
      Type.Array(Type.String(), {
        description: 'Field paths to uppercase; when absent, every top-level string field (or the whole value if it is a string).',
      }),
    ),
  },
  { additionalProperties: false },
);

type UppercaseConfig = Static<typeof schema>;

const hasOwn = Object.prototype.hasOwnProperty;

function check(config: UppercaseConfig): ConfigProblem[] {
  return (config.fields ?? []).flatMap((path, i) => fieldPathProblems(`fields[${i}]`, path));
}

class UppercaseTransform implements Transform {
  private readonly fields: readonly (readonly string[])[] | undefined;

  constructor(config: UppercaseConfig) {
    this.fields = config.fields?.map((path) => parseFieldPath(path));
  }

  process(batch: Batch, ctx: TransformContext): Batch {
    const out: Batch = [];
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i]!;
      try {
        const value = record.value;
        if (typeof value === 'string' && this.fields === undefined) {
          record.value = value.toUpperCase();
        } else if (isPlainObject(value) && this.upperFields(value)) {
          record.markChanged();
        }
        out.push(record);
      } catch (err) {
        ctx.reject(record, err);
      }
    }
    return out;
  }

  /** Uppercases the chosen string fields in place; true when any changed. */
  private upperFields(value: PlainObject): boolean {
    let changed = false;
    if (this.fields === undefined) {
      for (const k in value) {
        const v = value[k];
        if (typeof v === 'string' && hasOwn.call(value, k)) {
          value[k] = v.toUpperCase();
          changed = true;
        }
      }
      return changed;
    }
    for (const segments of this.fields) {
      const v = getField(value, segments);
      if (typeof v === 'string') {
        setField(value, segments, v.toUpperCase());
        changed = true;
      }
    }
    return changed;
  }
}

export const uppercaseDefinition: ComponentDefinition<UppercaseConfig, Transform> = {
  kind: 'transform',
  type: 'uppercase',
  description: "Uppercases string fields (the original Wire's transform). Fields that are not strings are left as they are.",
  schema,
  example: { fields: ['name', 'address.city'] },
  check,
  create: (config) => new UppercaseTransform(config),
};
