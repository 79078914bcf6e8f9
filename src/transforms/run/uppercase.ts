import type { Batch } from '../../core/record.js';
import type { Transform, TransformContext } from '../../core/ports.js';
import { getField, isPlainObject, parseFieldPath, setField, type PlainObject } from '../field-path.js';

/** A type, not an interface: configs are records of unknown fields to the registry. */
export type UppercaseConfig = {
  readonly fields?: readonly string[];
};

const hasOwn = Object.prototype.hasOwnProperty;

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

export function createUppercase(config: UppercaseConfig): Transform {
  return new UppercaseTransform(config);
}
