import type { ErrorObject } from 'ajv';
import { suggestion } from '../core/suggest.js';

/** A schema error in user terms: where (relative to the validated value) and what. */
export interface SchemaProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
  /** Point at the key rather than the value (an unknown field). */
  readonly atKey: boolean;
}

const ARTICLES: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'a boolean',
  object: 'an object',
  array: 'an array',
  null: 'null',
};

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function describeTypes(types: unknown): string {
  const list = Array.isArray(types) ? types : String(types).split(',');
  return list.map((t) => ARTICLES[String(t)] ?? String(t)).join(' or ');
}

function pointerSegments(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
}

function show(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

function oneOfValues(value: unknown, allowed: readonly unknown[]): string {
  const hint = typeof value === 'string' ? suggestion(value, allowed.filter((a): a is string => typeof a === 'string')) : '';
  const named = hint.startsWith(' (did') ? hint : '';
  return `${show(value)} is not one of: ${allowed.map((a) => String(a)).join(', ')}${named}`;
}

/** The values of an anyOf made only of constants (how TypeBox writes a union of literals). */
function constants(branches: unknown): unknown[] | undefined {
  if (!Array.isArray(branches)) return undefined;
  const values: unknown[] = [];
  for (const b of branches) {
    if (typeof b !== 'object' || b === null || !('const' in b)) return undefined;
    values.push((b as { const: unknown }).const);
  }
  return values;
}

/** One branch of a union in user terms: `'auto'`, `an integer >= 0`, `a string`. */
function describeBranch(branch: Record<string, unknown>): string | undefined {
  if ('const' in branch) return show(branch['const']);
  if (branch['type'] === undefined) return undefined;
  const bounds = (['minimum', 'exclusiveMinimum'] as const)
    .filter((k) => typeof branch[k] === 'number')
    .map((k) => ` ${k === 'minimum' ? '>=' : '>'} ${String(branch[k])}`);
  return describeTypes(branch['type']) + bounds.join('');
}

function message(e: ErrorObject, data: unknown): string {
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return 'required';
    case 'type':
      return `must be ${describeTypes(p['type'])}, not ${jsonType(data)}`;
    case 'enum':
      return oneOfValues(data, (p['allowedValues'] as unknown[]) ?? []);
    case 'const':
      return `must be ${show(p['allowedValue'])}`;
    case 'anyOf':
    case 'oneOf': {
      const values = constants((e.parentSchema as Record<string, unknown> | undefined)?.[e.keyword]);
      if (values !== undefined) return oneOfValues(data, values);
      const branches = ((e.parentSchema as Record<string, unknown> | undefined)?.[e.keyword] as Record<string, unknown>[]) ?? [];
      const forms = branches.map(describeBranch).filter((f): f is string => f !== undefined);
      return forms.length > 0 ? `must be ${forms.join(' or ')}, not ${show(data)}` : 'does not match any allowed form';
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `must be ${String(p['comparison'])} ${String(p['limit'])}`;
    case 'minLength':
      return p['limit'] === 1 ? 'must not be empty' : `must be at least ${String(p['limit'])} characters long`;
    case 'maxLength':
      return `must be at most ${String(p['limit'])} characters long`;
    case 'minItems':
      return `must have at least ${String(p['limit'])} item${p['limit'] === 1 ? '' : 's'}`;
    case 'maxItems':
      return `must have at most ${String(p['limit'])} items`;
    case 'pattern':
      return `must match the pattern ${String(p['pattern'])}`;
    default:
      return e.message ?? `fails ${e.keyword}`;
  }
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  let v = root;
  for (const s of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string | number, unknown>)[s];
  }
  return v;
}

/**
 * Turns ajv's errors into one problem each, in user terms. Errors from inside the branches of an
 * anyOf/oneOf are dropped: the union's own error says what was wanted.
 */
export function schemaProblems(errors: readonly ErrorObject[], data: unknown): SchemaProblem[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => `${e.schemaPath}/`);
  const problems: SchemaProblem[] = [];
  for (const e of errors) {
    if (unions.some((u) => e.schemaPath.startsWith(u))) continue;
    if (e.keyword === 'if') continue;
    const path = pointerSegments(e.instancePath);
    const p = e.params as Record<string, unknown>;
    if (e.keyword === 'required') {
      problems.push({ path: [...path, String(p['missingProperty'])], message: 'required', atKey: false });
    } else if (e.keyword === 'additionalProperties') {
      const field = String(p['additionalProperty']);
      const known = Object.keys(((e.parentSchema as Record<string, unknown> | undefined)?.['properties'] as object) ?? {});
      problems.push({ path: [...path, field], message: `unknown field '${field}'${suggestion(field, known)}`, atKey: true });
    } else {
      problems.push({ path, message: message(e, valueAt(data, path)), atKey: false });
    }
  }
  return problems;
}
