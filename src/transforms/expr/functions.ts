import { uuidv7 } from '../../core/uuid.js';
import { wallClockNow } from '../../core/wall-clock.js';
import { runtimeError, typeName, type Site } from './errors.js';
import { ENCODING_FUNCTIONS } from './encoding.js';
import { int, num, str, type FunctionSpec } from './function-spec.js';
import { REGEX_FUNCTIONS } from './regex.js';
import { TIME_FUNCTIONS } from './time.js';
import { equals, toText } from './values.js';

export type { FunctionSpec } from './function-spec.js';

function stringFn(f: (s: string) => unknown): FunctionSpec {
  return { min: 1, max: 1, pure: true, call: (site, a) => (a === null ? null : f(str(site, a))) };
}

function numberFn(f: (n: number) => number): FunctionSpec {
  return { min: 1, max: 1, pure: true, call: (site, a) => (a === null ? null : f(num(site, a))) };
}

function roundHalfAwayFromZero(site: Site, n: number, digits: unknown): number {
  if (digits === undefined || digits === null) return Math.sign(n) * Math.round(Math.abs(n));
  if (typeof digits !== 'number' || !Number.isInteger(digits) || digits < -15 || digits > 15) {
    throw runtimeError(site, `expects its digits to be an integer from -15 to 15, got ${toText(digits)}`);
  }
  // Shifting the decimal point in the text avoids 1.005 * 100 = 100.49999…
  const shifted = Math.round(Number(`${Math.abs(n)}e${digits}`));
  const exact = Number(`${shifted}e${-digits}`);
  const result = Number.isFinite(exact) ? exact : Math.round(Math.abs(n) * 10 ** digits) / 10 ** digits;
  return Math.sign(n) * result;
}

function toNumber(site: Site, value: unknown): number | null {
  if (value === null) return null;
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    const n = value.trim() === '' ? NaN : Number(value);
    if (Number.isNaN(n)) throw runtimeError(site, `cannot convert ${JSON.stringify(value)} to a number`);
    return n;
  }
  throw runtimeError(site, `cannot convert ${typeName(value)} to a number`);
}

function concat(site: Site, args: readonly unknown[]): unknown {
  let arrays = 0;
  let present = 0;
  for (const a of args) {
    if (a === null) continue;
    present++;
    if (Array.isArray(a)) arrays++;
  }
  if (arrays > 0 && arrays < present) throw runtimeError(site, 'cannot mix arrays with other values');
  if (arrays > 0) {
    const out: unknown[] = [];
    for (const a of args) if (a !== null) out.push(...(a as unknown[]));
    return out;
  }
  let out = '';
  for (const a of args) if (a !== null) out += toText(a);
  return out;
}

function contains(site: Site, haystack: unknown, needle: unknown): boolean | null {
  if (haystack === null) return null;
  if (typeof haystack === 'string') return needle === null ? false : haystack.includes(str(site, needle, 'a string to look for'));
  if (Array.isArray(haystack)) {
    for (const item of haystack) if (equals(item, needle)) return true;
    return false;
  }
  throw runtimeError(site, `expects a string or an array, got ${typeName(haystack)}`);
}

function join(site: Site, list: unknown, separator: unknown): string | null {
  if (list === null) return null;
  if (!Array.isArray(list)) throw runtimeError(site, `expects an array, got ${typeName(list)}`);
  const sep = str(site, separator, 'a string separator');
  let out = '';
  for (let i = 0; i < list.length; i++) {
    if (i > 0) out += sep;
    const item: unknown = list[i];
    if (item !== null && item !== undefined) out += toText(item);
  }
  return out;
}

function len(site: Site, value: unknown): number | null {
  if (value === null) return null;
  if (typeof value === 'string' || Array.isArray(value)) return value.length;
  if (typeof value === 'object') return Object.keys(value).length;
  throw runtimeError(site, `expects a string, array or object, got ${typeName(value)}`);
}

/** `substring(s, start, end)`: UTF-16 units as `len` counts them; negative positions count from the end. */
function substring(site: Site, s: unknown, start: unknown, end: unknown): string | null {
  if (s === null) return null;
  const text = str(site, s);
  const from = int(site, start, 'its start');
  return end === undefined || end === null ? text.slice(from) : text.slice(from, int(site, end, 'its end'));
}

/**
 * Every built-in function but `exists` (it takes a path rather than a value) and `coalesce` (it evaluates its
 * arguments only until one is not null), which are compiled apart.
 */
export const FUNCTIONS: ReadonlyMap<string, FunctionSpec> = new Map<string, FunctionSpec>([
  ['upper', stringFn((s) => s.toUpperCase())],
  ['lower', stringFn((s) => s.toLowerCase())],
  ['trim', stringFn((s) => s.trim())],
  ['len', { min: 1, max: 1, pure: true, call: len }],
  // concat is called with all its arguments as one array (see the compiler).
  ['concat', { min: 1, max: Infinity, pure: true, call: (site, args) => concat(site, args as unknown[]) }],
  ['contains', { min: 2, max: 2, pure: true, call: contains }],
  ['starts_with', { min: 2, max: 2, pure: true, call: (site, s, p) => (s === null ? null : str(site, s).startsWith(str(site, p, 'a string prefix'))) }],
  ['ends_with', { min: 2, max: 2, pure: true, call: (site, s, p) => (s === null ? null : str(site, s).endsWith(str(site, p, 'a string suffix'))) }],
  ['split', { min: 2, max: 2, pure: true, call: (site, s, sep) => (s === null ? null : splitText(str(site, s), str(site, sep, 'a string separator'))) }],
  ['join', { min: 2, max: 2, pure: true, call: join }],
  ['replace', { min: 3, max: 3, pure: true, call: replace }],
  ['substring', { min: 2, max: 3, pure: true, call: substring }],
  ['round', { min: 1, max: 2, pure: true, call: (site, n, d) => (n === null ? null : roundHalfAwayFromZero(site, num(site, n), d)) }],
  ['floor', numberFn(Math.floor)],
  ['ceil', numberFn(Math.ceil)],
  ['abs', numberFn(Math.abs)],
  ['now', { min: 0, max: 0, pure: false, call: () => wallClockNow() }],
  ['uuid', { min: 0, max: 0, pure: false, call: () => uuidv7() }],
  ['to_number', { min: 1, max: 1, pure: true, call: toNumber }],
  ['to_string', { min: 1, max: 1, pure: true, call: (_site, a) => (a === null ? null : toText(a)) }],
  ...REGEX_FUNCTIONS,
  ...TIME_FUNCTIONS,
  ...ENCODING_FUNCTIONS,
]);

/** Every function name, `exists` and `coalesce` included, for suggestions and docs. */
export const FUNCTION_NAMES: readonly string[] = [...FUNCTIONS.keys(), 'exists', 'coalesce'];

function splitText(s: string, separator: string): string[] {
  // An empty separator splits into characters (code points, so an emoji stays whole).
  return separator === '' ? Array.from(s) : s.split(separator);
}

function replace(site: Site, s: unknown, search: unknown, replacement: unknown): string | null {
  if (s === null) return null;
  const text = str(site, s);
  const from = str(site, search, 'a string to search for');
  if (from === '') throw runtimeError(site, 'expects a non-empty string to search for');
  return text.split(from).join(str(site, replacement, 'a string replacement'));
}
