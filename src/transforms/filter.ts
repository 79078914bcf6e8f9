import { Type, type Static } from '@sinclair/typebox';
import type { Batch } from '../core/record.js';
import type { ComponentDefinition, Transform, TransformContext } from '../core/ports.js';
import { expressionProblems } from './check.js';
import { compileExpression, truthy, type CompiledExpression } from './expr/index.js';

const schema = Type.Object(
  { expr: Type.String({ minLength: 1, description: 'Keep the records for which this expression is true.' }) },
  { additionalProperties: false },
);

type FilterConfig = Static<typeof schema>;

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

export const filterDefinition: ComponentDefinition<FilterConfig, Transform> = {
  kind: 'transform',
  type: 'filter',
  description: 'Keeps the records for which an expression is true (false, null, 0 and "" drop a record).',
  schema,
  example: { expr: 'amount > 100 and status != "test"' },
  check: (config) => expressionProblems('expr', config.expr),
  create: (config) => new FilterTransform(compileExpression(config.expr)),
};
