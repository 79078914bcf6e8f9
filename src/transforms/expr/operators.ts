import { runtimeError, typeName, type Site } from './errors.js';
import { equals, hasOwnKey } from './values.js';

/** `+`: numbers add, strings concatenate, null gives null; any other mix is an error. */
export function add(site: Site, a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  if (a === null || b === null) return null;
  throw runtimeError(site, `needs two numbers or two strings, got ${typeName(a)} and ${typeName(b)}`);
}

/** `- * / %` on numbers; null in gives null out. Division by zero is an error (JSON has no Infinity). */
export function arithmetic(site: Site, op: '-' | '*' | '/' | '%', a: unknown, b: unknown): unknown {
  if (typeof a !== 'number' || typeof b !== 'number') {
    if (a === null || b === null) return null;
    throw runtimeError(site, `needs two numbers, got ${typeName(a)} and ${typeName(b)}`);
  }
  switch (op) {
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
    case '%':
      if (b === 0) throw runtimeError(site, 'divides by zero');
      return op === '/' ? a / b : a % b;
  }
}

export function negate(site: Site, a: unknown): unknown {
  if (typeof a === 'number') return -a;
  if (a === null) return null;
  throw runtimeError(site, `needs a number, got ${typeName(a)}`);
}

export type Ordering = '<' | '<=' | '>' | '>=';

/** Orders two numbers or two strings; with null on either side the answer is false. */
export function compare(site: Site, op: Ordering, a: unknown, b: unknown): boolean {
  if (a === null || b === null || a === undefined || b === undefined) return false;
  const t = typeof a;
  if ((t !== 'number' && t !== 'string') || t !== typeof b) {
    throw runtimeError(site, `cannot compare ${typeName(a)} with ${typeName(b)}`);
  }
  const x = a as number | string;
  const y = b as number | string;
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
  }
}

/** `x in list`, `x in "text"` (substring), `key in object` (an own key). Null on the right: false. */
export function within(site: Site, x: unknown, container: unknown): boolean {
  if (container === null || container === undefined) return false;
  if (Array.isArray(container)) {
    for (const item of container) if (equals(item, x)) return true;
    return false;
  }
  if (typeof container === 'string') {
    if (x === null) return false;
    if (typeof x !== 'string') throw runtimeError(site, `needs a string on its left to search text, got ${typeName(x)}`);
    return container.includes(x);
  }
  if (typeof container === 'object') {
    if (x === null) return false;
    if (typeof x !== 'string') throw runtimeError(site, `needs a string key on its left to search an object, got ${typeName(x)}`);
    return hasOwnKey(container, x);
  }
  throw runtimeError(site, `needs an array, a string or an object on its right, got ${typeName(container)}`);
}
