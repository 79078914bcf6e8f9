import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { WireError } from '../core/errors.js';

/**
 * Applies a connector schema's defaults to a config and validates it. The config loader validates
 * pipeline files first; this keeps `create` safe when called directly (tests, the API, benchmarks).
 */
export function resolveConfig<T extends TSchema>(type: string, schema: T, config: unknown): Static<T> {
  const withDefaults: unknown = Value.Default(schema, structuredClone(config ?? {}));
  if (Value.Check(schema, withDefaults)) return withDefaults;
  const problems = [...Value.Errors(schema, withDefaults)].map((e) => ({
    path: e.path.replace(/^\//, '').replaceAll('/', '.'),
    message: e.message,
  }));
  const first = problems[0];
  throw new WireError(
    'INVALID_INPUT',
    `invalid ${type} config${first === undefined ? '' : `: ${first.path || '(config)'}: ${first.message}`}`,
    { problems },
  );
}
