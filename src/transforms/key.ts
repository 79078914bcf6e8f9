import { Type, type Static } from '@sinclair/typebox';
import type { Batch } from '../core/record.js';
import type { ComponentDefinition, Transform, TransformContext } from '../core/ports.js';
import { expressionProblems } from './check.js';
import { compileExpression, type CompiledExpression } from './expr/index.js';

const schema = Type.Object(
  { expr: Type.String({ minLength: 1, description: "The partition key: this expression's value, as a string." }) },
  { additionalProperties: false },
);

type KeyConfig = Static<typeof schema>;

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

export const keyDefinition: ComponentDefinition<KeyConfig, Transform> = {
  kind: 'transform',
  type: 'key',
  description: 'Sets the partition key (records with the same key stay in order). A null result leaves the record without a key.',
  schema,
  example: { expr: 'customer.id' },
  check: (config) => expressionProblems('expr', config.expr),
  create: (config) => new KeyTransform(compileExpression(config.expr)),
};
