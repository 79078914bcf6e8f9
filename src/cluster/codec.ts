/**
 * The one byte encoding of the replicated state: msgpack of a canonical value. Every node must turn the
 * same command into the same bytes and the same state, so objects are rebuilt with their keys sorted,
 * and only JSON-like values (plus byte arrays) are accepted: no Map, Date, undefined inside arrays,
 * NaN or Infinity, whose encodings differ between libraries or are lost on the way back.
 */
import { Packr } from 'msgpackr';
import { WireError } from '../core/errors.js';

/** The one msgpack codec of the state; useRecords: false keeps every value self-describing (no structure table shared between encodes). */
export const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false });

/** Deep enough for any pipeline spec; a bound so hostile input cannot exhaust the stack. */
export const MAX_DEPTH = 64;

export type Canonical = null | boolean | number | string | Uint8Array | readonly Canonical[] | { readonly [key: string]: Canonical };

/**
 * Why a value cannot be stored; `segments` name where, innermost first, added as it unwinds: the path costs nothing
 * while every value is good (each node checks a 333-checkpoint batch several times a second).
 */
class Refusal {
  readonly segments: string[] = [];
  constructor(readonly problem: (path: string) => string) {}
}

/**
 * `value` with sorted object keys and its undefined object fields left out, as JSON does. Already so (what a
 * canonical encoding decodes to, or a record built with its keys in order), it is returned as it is, not copied.
 */
export function canonicalize(value: unknown): Canonical {
  try {
    return canonical(value, 0);
  } catch (error) {
    if (!(error instanceof Refusal)) throw error;
    const path = `$${error.segments.reverse().join('')}`;
    throw new WireError('INVALID_INPUT', error.problem(path), { path });
  }
}

function canonical(value: unknown, depth: number): Canonical {
  if (depth > MAX_DEPTH) throw new Refusal((path) => `${path}: nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Refusal((path) => `${path}: ${value} is not a finite number`);
    return value;
  }
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return canonicalArray(value, depth);
  if (typeof value === 'object' && isPlainObject(value)) return canonicalObject(value as Record<string, unknown>, depth);
  throw new Refusal((path) => `${path}: a ${describe(value)} cannot be stored (JSON values only)`);
}

/** Item `at` of an array or field `at` of an object; a refusal inside it gets its place. */
function child(value: unknown, depth: number, at: number | string): Canonical {
  try {
    return canonical(value, depth);
  } catch (error) {
    if (error instanceof Refusal) error.segments.push(typeof at === 'number' ? `[${at}]` : `.${at}`);
    throw error;
  }
}

function canonicalArray(value: readonly unknown[], depth: number): Canonical {
  let copy: Canonical[] | undefined;
  for (let i = 0; i < value.length; i++) {
    const item = child(value[i], depth + 1, i);
    if (copy === undefined && item !== value[i]) copy = value.slice(0, i) as Canonical[];
    copy?.push(item);
  }
  return copy ?? (value as Canonical[]);
}

function canonicalObject(value: Record<string, unknown>, depth: number): Canonical {
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const field = value[key];
    if (key === '__proto__' || field === undefined || (i > 0 && keys[i - 1]! >= key) || child(field, depth + 1, key) !== field) return sortedCopy(value, keys, depth);
  }
  return value as Canonical;
}

/** A new object with `keys` in order, the undefined fields left out (rare: what this node builds or decodes is in order). */
function sortedCopy(value: Record<string, unknown>, keys: string[], depth: number): Canonical {
  const out: Record<string, Canonical> = {};
  for (const key of keys.sort()) {
    // msgpackr decodes this key under another name: refused, so what is stored is what was sent.
    if (key === '__proto__') throw new Refusal((path) => `${path}: the key __proto__ cannot be stored`);
    const field = value[key];
    if (field !== undefined) out[key] = child(field, depth + 1, key);
  }
  return out;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined value';
  if (typeof value === 'object' && value !== null) return `${value.constructor?.name ?? 'object'} object`;
  return `${typeof value} value`;
}

/** Met by `plainCopy` where JSON would change the value (a Date, NaN, undefined in an array): JSON makes the copy. */
const NOT_PLAIN: unique symbol = Symbol('not plain JSON');

/**
 * A deep copy of `value` as `JSON.parse(JSON.stringify(value))` makes it, object keys sorted (so `canonicalize` takes
 * it as it is, with no second copy): plain data is copied directly (a third faster than through JSON text); anything
 * else goes through JSON first.
 */
export function jsonCopy(value: unknown): unknown {
  const plain = plainCopy(value, 0);
  if (plain !== NOT_PLAIN) return plain;
  const viaJson: unknown = JSON.parse(JSON.stringify(value) ?? 'null');
  const sorted = plainCopy(viaJson, 0);
  return sorted === NOT_PLAIN ? viaJson : sorted;
}

function plainCopy(value: unknown, depth: number): unknown {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value + 0 : NOT_PLAIN;
  if (depth > MAX_DEPTH || typeof value !== 'object') return NOT_PLAIN;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) {
      const copy = item === undefined ? NOT_PLAIN : plainCopy(item, depth + 1);
      if (copy === NOT_PLAIN) return NOT_PLAIN;
      out.push(copy);
    }
    return out;
  }
  if (!isPlainObject(value)) return NOT_PLAIN;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const field = (value as Record<string, unknown>)[key];
    if (field === undefined) continue;
    const copy = key === '__proto__' ? NOT_PLAIN : plainCopy(field, depth + 1);
    if (copy === NOT_PLAIN) return NOT_PLAIN;
    out[key] = copy;
  }
  return out;
}

export function encodeCanonical(value: unknown): Buffer {
  return packr.pack(canonicalize(value));
}

/** Decodes bytes written by `encodeCanonical`; garbage is an INVALID_INPUT error, never a crash. */
export function decodeCanonical(bytes: Uint8Array, what: string): unknown {
  try {
    return packr.unpack(bytes);
  } catch (error) {
    throw new WireError('INVALID_INPUT', `${what} cannot be decoded: ${(error as Error).message}`, {}, error);
  }
}
