/**
 * The value semantics of expressions: reading fields (own properties only, so no prototype is
 * ever reached), truthiness and equality over JSON-like values.
 */

const hasOwn = Object.prototype.hasOwnProperty;

/** Reads an own property of a plain object; anything else (arrays, primitives, null, missing) gives null. */
export function getKey(target: unknown, key: string): unknown {
  if (typeof target !== 'object' || target === null || Array.isArray(target)) return null;
  if (!hasOwn.call(target, key)) return null;
  const v = (target as Record<string, unknown>)[key];
  return v === undefined ? null : v;
}

/** Reads an array element; a negative index counts from the end. Anything else gives null. */
export function getIndex(target: unknown, index: number): unknown {
  if (!Array.isArray(target) || !Number.isInteger(index)) return null;
  const i = index < 0 ? target.length + index : index;
  if (i < 0 || i >= target.length) return null;
  const v: unknown = target[i];
  return v === undefined ? null : v;
}

/** Reads by a key computed at run time: strings address object fields, numbers array elements. */
export function getDynamic(target: unknown, key: unknown): unknown {
  if (typeof key === 'string') return getKey(target, key);
  if (typeof key === 'number') return getIndex(target, key);
  return null;
}

/** True when `key` names something present (even if null) in `target`. */
export function hasMember(target: unknown, key: unknown): boolean {
  if (typeof key === 'string') {
    return typeof target === 'object' && target !== null && !Array.isArray(target) && hasOwn.call(target, key);
  }
  if (typeof key === 'number' && Array.isArray(target) && Number.isInteger(key)) {
    const i = key < 0 ? target.length + key : key;
    return i >= 0 && i < target.length;
  }
  return false;
}

export function hasOwnKey(target: object, key: string): boolean {
  return hasOwn.call(target, key);
}

/** false, null, 0, NaN and "" are false; everything else (including [] and {}) is true. */
export function truthy(value: unknown): boolean {
  if (value === true) return true;
  if (value === false || value === null || value === undefined || value === 0 || value === '') return false;
  return value === value;
}

/** Structural equality: arrays element by element, objects by their own keys. */
export function equals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return (a ?? null) === (b ?? null);
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  const aArray = Array.isArray(a);
  if (aArray !== Array.isArray(b)) return false;
  if (aArray) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!equals(x[i], y[i])) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  if (keys.length !== Object.keys(y).length) return false;
  for (const k of keys) if (!hasOwn.call(y, k) || !equals(x[k], y[k])) return false;
  return true;
}

/** Text for a value, as `to_string` and `concat` write it: objects and arrays as JSON. */
export function toText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) return 'null';
  return JSON.stringify(value);
}
