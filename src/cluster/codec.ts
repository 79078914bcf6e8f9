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

/** A copy of `value` with sorted object keys; object fields that are undefined are left out, as JSON does. */
export function canonicalize(value: unknown, path = '$', depth = 0): Canonical {
  if (depth > MAX_DEPTH) throw new WireError('INVALID_INPUT', `${path}: nested deeper than ${MAX_DEPTH} levels`, { path });
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new WireError('INVALID_INPUT', `${path}: ${value} is not a finite number`, { path });
    return value;
  }
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map((item: unknown, i) => canonicalize(item, `${path}[${i}]`, depth + 1));
  if (typeof value === 'object' && isPlainObject(value)) {
    const out: Record<string, Canonical> = {};
    for (const key of Object.keys(value).sort()) {
      // msgpackr decodes this key under another name: refused, so what is stored is what was sent.
      if (key === '__proto__') throw new WireError('INVALID_INPUT', `${path}: the key __proto__ cannot be stored`, { path });
      const field = (value as Record<string, unknown>)[key];
      if (field !== undefined) out[key] = canonicalize(field, `${path}.${key}`, depth + 1);
    }
    return out;
  }
  throw new WireError('INVALID_INPUT', `${path}: a ${describe(value)} cannot be stored (JSON values only)`, { path });
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
