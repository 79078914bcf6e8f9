import { createHash } from 'node:crypto';
import { MAX_DEPTH } from '../../core/json-scan.js';
import { deeperThan } from '../../core/json-write.js';
import { runtimeError, typeName, type Site } from './errors.js';
import { str, type FunctionSpec } from './function-spec.js';

/** The text a hash is taken of: a string as it is (UTF-8), a number or boolean as `to_string` writes it. */
function hashInput(site: Site, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw runtimeError(site, `expects a string, a number or a boolean, got ${typeName(value)} (hash to_string(x) for its JSON)`);
}

function hashFn(algorithm: 'sha256' | 'md5'): FunctionSpec {
  return {
    min: 1,
    max: 1,
    pure: true,
    call: (site, a) => (a === null ? null : createHash(algorithm).update(hashInput(site, a), 'utf8').digest('hex')),
  };
}

/** JSON text to a value, nested at most as deep as a record may be (deeper values cannot be written back). */
function parseJson(site: Site, a: unknown): unknown {
  if (a === null) return null;
  const text = str(site, a, 'a string of JSON text');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw runtimeError(site, `cannot parse its text as JSON (${(err as Error).message})`);
  }
  // Nesting `MAX_DEPTH` deep takes at least twice as many characters: shorter texts need no look.
  if (text.length > 2 * MAX_DEPTH && deeperThan(text, MAX_DEPTH)) {
    throw runtimeError(site, `cannot parse its text as JSON: nested deeper than ${MAX_DEPTH} levels`);
  }
  return value;
}

export const ENCODING_FUNCTIONS: readonly (readonly [string, FunctionSpec])[] = [
  ['sha256', hashFn('sha256')],
  ['md5', hashFn('md5')],
  ['parse_json', { min: 1, max: 1, pure: true, call: parseJson }],
];
