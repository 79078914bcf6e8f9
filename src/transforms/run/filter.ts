import type { Batch } from '../../core/record.js';
import type { Transform, TransformContext } from '../../core/ports.js';
import { compileExpression, truthy, type CompiledExpression } from '../expr/index.js';

/** A type, not an interface: configs are records of unknown fields to the registry. */
export type FilterConfig = {
  readonly expr: string;
};

class FilterTransform implements Transform {
  constructor(private readonly keep: CompiledExpression) {}

  process(batch: Batch, ctx: TransformContext): Batch {
    const out: Batch = [];
    for (let i = 0; i < batch.length; i++) {
      const record = batch[i]!;
      try {
        if (truthy(this.keep(record.value))) out.push(record);
      } catch (err) {
        ctx.reject(record, err);
      }
    }
    return out;
  }
}

export function createFilter(config: FilterConfig): Transform {
  return new FilterTransform(compileExpression(config.expr));
}
