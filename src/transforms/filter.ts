import { Type } from '@sinclair/typebox';
import type { ComponentDefinition, Transform } from '../core/ports.js';
import { expressionProblems } from './check.js';
import { createFilter, type FilterConfig } from './run/filter.js';

const schema = Type.Object(
  { expr: Type.String({ minLength: 1, description: 'Keep the records for which this expression is true.' }) },
  { additionalProperties: false },
);

export const filterDefinition: ComponentDefinition<FilterConfig, Transform> = {
  kind: 'transform',
  type: 'filter',
  description: 'Keeps the records for which an expression is true (false, null, 0 and "" drop a record).',
  schema,
  example: { expr: 'amount > 100 and status != "test"' },
  check: (config) => expressionProblems('expr', config.expr),
  stateless: true,
  keepsKey: true,
  create: createFilter,
};
