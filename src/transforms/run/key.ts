import type { Batch } from '../../core/record.js';
import type { Transform, TransformContext } from '../../core/ports.js';
import { compileExpression, type CompiledExpression } from '../expr/index.js';

/** A type, not an interface: configs are records of unknown fields to the registry. */
export type KeyConfig = {
  readonly expr: string;
};

/** The key as text: strings as they are, numbers and booleans written out, objects as JSON; null unsets it. */
function keyText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

class KeyTransform implements Transform {
  constructor(private readonly expr: CompiledExpression) {}

  process(batch: Batch, ctx: TransformContext): Batch {
    const out: Batch = [];
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i]!;
      try {
        record.key = keyText(this.expr(record.value));
        out.push(record);
      } catch (err) {
        ctx.reject(record, err);
      }
    }
    return out;
  }
}

export function createKey(config: KeyConfig): Transform {
  return new KeyTransform(compileExpression(config.expr));
}
