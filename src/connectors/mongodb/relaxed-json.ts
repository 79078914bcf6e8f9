import type { BSON } from 'mongodb';

type Ejson = typeof BSON.EJSON;

/**
 * `EJSON.serialize(value, { relaxed: true })` without its cost: the bson library writes the whole value as a JSON
 * text and parses it back, which took most of the source's time per record. Documents are mostly plain objects,
 * arrays, strings, booleans, null and finite numbers, which relaxed extended JSON keeps as they are (the walk copies
 * them, as the round trip did); anything else (a BSON type, a Date, a non-finite number, an object with
 * `_bsontype`) goes to `EJSON.serialize` itself, whose answer for a part is its answer within the whole.
 */
export function relaxedJson(value: unknown, ejson: Ejson): unknown {
  return convert(value, ejson, false);
}

/**
 * `relaxedJson` of a value nothing else holds (a document the driver has just read), without copying it: an object
 * or array whose parts relaxed extended JSON keeps as they are is itself the answer, and only those with a part to
 * change are copied. The source's records then cost one object per document fewer to make and to collect.
 */
export function relaxedJsonOwned(value: unknown, ejson: Ejson): unknown {
  return convert(value, ejson, true);
}

/** The walk of `relaxedJson`; with `share`, a part left as it is is returned itself rather than copied. */
function convert(value: unknown, ejson: Ejson, share: boolean): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (value === undefined) return null;
  // -0 is written as 0 by the round trip.
  if (typeof value === 'number') return Number.isFinite(value) ? value + 0 : ejson.serialize(value, RELAXED);
  if (Array.isArray(value)) {
    // Until an element changes (share), `out` stays unmade and the array is its own answer.
    let out: unknown[] | undefined = share ? undefined : new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      const element: unknown = value[i];
      const converted = dropped(element) ? null : convert(element, ejson, share);
      // Object.is: -0 becomes 0.
      if (out === undefined && !Object.is(converted, element)) out = value.slice(0, i);
      if (out !== undefined) out[i] = converted;
    }
    return out ?? value;
  }
  if (typeof value === 'object' && isPlain(value) && (value as { _bsontype?: unknown })._bsontype === undefined) {
    const names = Object.keys(value);
    // An object without a prototype is answered with one, as the round trip does.
    let out: Record<string, unknown> | undefined = share && Object.getPrototypeOf(value) === Object.prototype ? undefined : {};
    for (let i = 0; i < names.length; i++) {
      const field = (value as Record<string, unknown>)[names[i]!];
      const drop = dropped(field);
      const converted = drop ? undefined : convert(field, ejson, share);
      if (out === undefined && (drop || !Object.is(converted, field))) {
        out = {};
        for (let j = 0; j < i; j++) setField(out, names[j]!, (value as Record<string, unknown>)[names[j]!]);
      }
      if (out !== undefined && !drop) setField(out, names[i]!, converted);
    }
    return out ?? value;
  }
  return ejson.serialize(value, RELAXED);
}

function setField(out: Record<string, unknown>, name: string, value: unknown): void {
  // JSON.parse makes `__proto__` an own field; an assignment would set the prototype.
  if (name === '__proto__') Object.defineProperty(out, name, { value, writable: true, enumerable: true, configurable: true });
  else out[name] = value;
}

const RELAXED = { relaxed: true } as const;
const CANONICAL = { relaxed: false } as const;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * `EJSON.stringify(id, { relaxed: false })`, the load's position for each document, written directly for the `_id`s
 * most collections have (an ObjectId, a string, a 32-bit integer): the library's general path cost more per
 * document than reading it.
 */
export function canonicalId(id: unknown, ejson: Ejson): string {
  if (typeof id === 'string') return JSON.stringify(id);
  if (typeof id === 'number' && Number.isInteger(id) && id >= INT32_MIN && id <= INT32_MAX && !Object.is(id, -0)) return `{"$numberInt":"${id}"}`;
  if (isObjectId(id)) return `{"$oid":"${id.toHexString()}"}`;
  return ejson.stringify(id, CANONICAL);
}

/** `EJSON.stringify(id, { relaxed: true })`, a record's key, written directly for a finite number or an ObjectId. */
export function relaxedId(id: unknown, ejson: Ejson): string {
  if (typeof id === 'number' && Number.isFinite(id)) return JSON.stringify(id);
  if (isObjectId(id)) return `{"$oid":"${id.toHexString()}"}`;
  return ejson.stringify(id, RELAXED);
}

function isObjectId(value: unknown): value is { toHexString(): string } {
  return typeof value === 'object' && value !== null && (value as { _bsontype?: unknown })._bsontype === 'ObjectId' && typeof (value as { toHexString?: unknown }).toHexString === 'function';
}

/** What JSON text has no value for: a field left out, an array element written as null (undefined: null in both). */
function dropped(value: unknown): boolean {
  return typeof value === 'function' || typeof value === 'symbol';
}

function isPlain(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
