import { Type } from '@sinclair/typebox';
import type { ComponentDefinition, ConfigProblem, Transform } from '../core/ports.js';
import { fieldPathProblems } from './check.js';
import { createUppercase, type UppercaseConfig } from './run/uppercase.js';

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

function check(config: UppercaseConfig): ConfigProblem[] {
  return (config.fields ?? []).flatMap((path, i) => fieldPathProblems(`fields[${i}]`, path));
}

export const uppercaseDefinition: ComponentDefinition<UppercaseConfig, Transform> = {
  kind: 'transform',
  type: 'uppercase',
  description: "Uppercases string fields (the original Wire's transform). Fields that are not strings are left as they are.",
  schema,
  example: { fields: ['name', 'address.city'] },
  check,
  stateless: true,
  keepsKey: true,
  create: createUppercase,
};
