import { Type } from '@sinclair/typebox';
import type { ComponentDefinition, Transform } from '../core/ports.js';
import { expressionProblems } from './check.js';
import { createKey, type KeyConfig } from './run/key.js';

const schema = Type.Object(
  { expr: Type.String({ minLength: 1, description: "The partition key: this expression's value, as a string." }) },
  { additionalProperties: false },
);

export const keyDefinition: ComponentDefinition<KeyConfig, Transform> = {
  kind: 'transform',
  type: 'key',
  description: 'Sets the partition key (records with the same key stay in order). A null result leaves the record without a key.',
  schema,
  example: { expr: 'customer.id' },
  check: (config) => expressionProblems('expr', config.expr),
  stateless: true,
  create: createKey,
};
