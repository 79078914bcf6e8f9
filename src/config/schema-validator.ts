import { isAbsolute, resolve } from 'node:path';
import { Ajv, type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import type { JsonSchema } from '../core/ports.js';

// One validator for every schema: all errors (a file reports every problem), defaults filled in,
// verbose so errors carry their schema (for suggestions). Not strict: component schemas carry
// annotations of their own (x-wire-… keywords).
const ajv = new Ajv({ allErrors: true, useDefaults: true, verbose: true, strict: false });

const compiled = new WeakMap<JsonSchema, ValidateFunction>();

/**
 * Marks a string property of a component schema as a file path relative to the pipeline file
 * (e.g. `js.module`); the loader resolves it against the file's directory.
 */
export const PIPELINE_RELATIVE = 'x-wire-pipeline-relative';

/** Validates `data` in place (schema defaults are written into it); returns the errors, if any. */
export function validateAgainst(schema: JsonSchema, data: unknown): ErrorObject[] {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    validate = ajv.compile(schema as AnySchemaObject);
    compiled.set(schema, validate);
  }
  return validate(data) ? [] : [...(validate.errors ?? [])];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Resolves, in place, every property the schema marks as pipeline-relative against `baseDir`. */
export function resolveRelativePaths(schema: unknown, data: unknown, baseDir: string): void {
  if (!isObject(schema)) return;
  if (Array.isArray(data)) {
    for (const item of data) resolveRelativePaths(schema['items'], item, baseDir);
    return;
  }
  const properties = schema['properties'];
  if (!isObject(properties) || !isObject(data)) return;
  for (const [name, sub] of Object.entries(properties)) {
    const value = data[name];
    if (isObject(sub) && sub[PIPELINE_RELATIVE] === true && typeof value === 'string' && !isAbsolute(value)) {
      data[name] = resolve(baseDir, value);
    } else {
      resolveRelativePaths(sub, value, baseDir);
    }
  }
}
