import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import type { Ajv, AnySchemaObject, ErrorObject, Options, ValidateFunction } from 'ajv';
import type { JsonSchema } from '../core/ports.js';

/**
 * One set of options for every schema: all errors (a file reports every problem), defaults filled in,
 * verbose so errors carry their schema (for suggestions). Not strict: component schemas carry
 * annotations of their own (x-wire-… keywords). The build compiles the built-in schemas ahead of time
 * with the same options (`scripts/build-cli.ts`).
 */
export const AJV_OPTIONS: Options = { allErrors: true, useDefaults: true, verbose: true, strict: false };

/** A validator compiled ahead of time, as Ajv's standalone code exports it. */
export type PrecompiledValidator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/**
 * Finds the validator compiled ahead of time for a schema, by the schema's JSON text (its meaning, exactly:
 * a hash would load node:crypto, ~4 ms of start-up).
 */
export type PrecompiledLookup = (schemaText: string) => PrecompiledValidator | undefined;

const compiled = new WeakMap<JsonSchema, PrecompiledValidator>();
let precompiledLookup: PrecompiledLookup | undefined;
let ajv: Ajv | undefined;
const load = createRequire(import.meta.url);

/**
 * Uses the validators the build compiled (Ajv standalone code, bundled with the CLI). Compiling a schema at
 * run time costs tens of milliseconds (Ajv, and its meta-schema): most of a short run's start-up.
 */
export function usePrecompiledValidators(lookup: PrecompiledLookup): void {
  precompiledLookup = lookup;
}

function precompiled(schema: JsonSchema): PrecompiledValidator | undefined {
  return precompiledLookup?.(JSON.stringify(schema));
}

// Ajv loads only for a schema not compiled ahead of time (tests, plugins); `require` keeps this sync.
function compileNow(schema: JsonSchema): PrecompiledValidator {
  if (ajv === undefined) {
    const { Ajv: AjvClass } = load('ajv') as typeof import('ajv');
    ajv = new AjvClass(AJV_OPTIONS);
  }
  return ajv.compile(schema as AnySchemaObject) as ValidateFunction;
}

/**
 * Marks a string property of a component schema as a file path relative to the pipeline file
 * (e.g. `js.module`); the loader resolves it against the file's directory.
 */
export const PIPELINE_RELATIVE = 'x-wire-pipeline-relative';

/** Validates `data` in place (schema defaults are written into it); returns the errors, if any. */
export function validateAgainst(schema: JsonSchema, data: unknown): ErrorObject[] {
  let validate = compiled.get(schema);
  if (validate === undefined) {
    validate = precompiled(schema) ?? compileNow(schema);
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
