import { Type } from '@sinclair/typebox';
import type { ComponentDefinition, ConfigProblem, Transform } from '../core/ports.js';
import { expressionProblems, fieldPathProblems } from './check.js';
import { createMap, type MapConfig } from './run/map.js';

const schema = Type.Object(
  {
    value: Type.Optional(
      Type.String({
        description: 'An expression whose result replaces the whole value, first (`parse_json(this)` for text records).',
      }),
    ),
    set: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: 'Field path → expression. Every expression reads the value as it was before set (after value).',
      }),
    ),
    remove: Type.Optional(Type.Array(Type.String(), { description: 'Field paths to delete.' })),
    rename: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Field path → new field path.' })),
  },
  { additionalProperties: false },
);

function check(config: MapConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const set = config.set ?? {};
  const rename = config.rename ?? {};
  const remove = config.remove ?? [];
  if (config.value === undefined && Object.keys(set).length + Object.keys(rename).length + remove.length === 0) {
    problems.push({ path: '', message: 'map needs at least one of value, set, remove or rename' });
  }
  if (config.value !== undefined) problems.push(...expressionProblems('value', config.value));
  for (const [path, expr] of Object.entries(set)) {
    problems.push(...fieldPathProblems(`set.${path}`, path), ...expressionProblems(`set.${path}`, expr));
  }
  remove.forEach((path, i) => problems.push(...fieldPathProblems(`remove[${i}]`, path)));
  for (const [from, to] of Object.entries(rename)) {
    problems.push(...fieldPathProblems(`rename.${from}`, from), ...fieldPathProblems(`rename.${from}`, to));
  }
  return problems;
}

export const mapDefinition: ComponentDefinition<MapConfig, Transform> = {
  kind: 'transform',
  type: 'map',
  description:
    'Replaces the whole value, sets fields from expressions, renames and removes fields (in that order). Paths may be nested (a.b); missing objects are created.',
  schema,
  example: { set: { user: 'upper(user)', total: 'amount * 1.2' }, remove: ['internal'], rename: { ts: 'timestamp' } },
  check,
  stateless: true,
  keepsKey: true,
  create: createMap,
};
