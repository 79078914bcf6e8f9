import { WireError } from '../core/errors.js';
import { typeName } from './expr/errors.js';

// Writing through these keys would reach or replace an object's prototype.
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

const hasOwn = Object.prototype.hasOwnProperty;

/** Why `path` cannot name a field to write (`a.b.c`), or undefined when it can. */
export function fieldPathProblem(path: string): string | undefined {
  if (path === '') return 'a field path cannot be empty';
  for (const segment of path.split('.')) {
    if (segment === '') return `'${path}' has an empty segment`;
    if (FORBIDDEN.has(segment)) return `'${segment}' cannot be used as a field name`;
  }
  return undefined;
}

/** The segments of a writable field path; INVALID_INPUT if it is not one. */
export function parseFieldPath(path: string): readonly string[] {
  const problem = fieldPathProblem(path);
  if (problem !== undefined) throw new WireError('INVALID_INPUT', problem, { path });
  return path.split('.');
}

export type PlainObject = Record<string, unknown>;

export function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The own field at `segments`, or undefined when any step is missing. */
export function getField(target: PlainObject, segments: readonly string[]): unknown {
  let cur: unknown = target;
  for (const s of segments) {
    if (!isPlainObject(cur) || !hasOwn.call(cur, s)) return undefined;
    cur = cur[s];
  }
  return cur;
}

/**
 * Throws, without changing anything, when writing at `segments` would have to go through a value
 * that is not an object (so a record is never left half-changed).
 */
export function assertWritable(target: PlainObject, segments: readonly string[], path: string): void {
  let cur: unknown = target;
  for (let i = 0; i < segments.length - 1; i++) {
    const s = segments[i]!;
    if (!hasOwn.call(cur, s)) return;
    const next = (cur as PlainObject)[s];
    if (next === null || next === undefined) return;
    if (!isPlainObject(next)) {
      const at = segments.slice(0, i + 1).join('.');
      throw new WireError('INVALID_INPUT', `cannot set '${path}': '${at}' is ${typeName(next)}, not an object`, { path });
    }
    cur = next;
  }
}

/** Writes `value` at `segments`, creating objects on the way (call `assertWritable` first). */
export function setField(target: PlainObject, segments: readonly string[], value: unknown): void {
  let cur = target;
  const last = segments.length - 1;
  for (let i = 0; i < last; i++) {
    const s = segments[i]!;
    const next = hasOwn.call(cur, s) ? cur[s] : undefined;
    if (isPlainObject(next)) {
      cur = next;
    } else {
      const created: PlainObject = {};
      cur[s] = created;
      cur = created;
    }
  }
  cur[segments[last]!] = value;
}

/** Removes the field at `segments`; true when there was one. */
export function deleteField(target: PlainObject, segments: readonly string[]): boolean {
  const parent = segments.length === 1 ? target : getField(target, segments.slice(0, -1));
  const last = segments[segments.length - 1]!;
  if (!isPlainObject(parent) || !hasOwn.call(parent, last)) return false;
  delete parent[last];
  return true;
}
