import { WireError } from '../core/errors.js';
import type { ConfigProblem } from '../core/ports.js';
import type { WireRecord } from '../core/record.js';

/**
 * A key (or stream, list, channel name) made from each record: `{key}` is the record's key, `{id}` its id and
 * `{value.a.b}` a field of its value; everything else is literal text (`user:{value.user}`).
 */
export type KeyTemplate = (record: WireRecord) => string;

const PLACEHOLDER = /\{([^{}]*)\}/g;

type Part = string | ((record: WireRecord) => string);

function placeholder(name: string): (record: WireRecord) => string {
  if (name === 'key') {
    return (record) => {
      if (record.key === undefined) throw new WireError('INVALID_INPUT', 'the key template uses {key} and the record has no key');
      return record.key;
    };
  }
  if (name === 'id') return (record) => record.id;
  const path = name.slice('value.'.length).split('.');
  return (record) => {
    let at: unknown = record.value;
    for (const step of path) at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[step] : undefined;
    if (typeof at === 'string') return at;
    if (typeof at === 'number' || typeof at === 'boolean') return String(at);
    throw new WireError('INVALID_INPUT', `the key template uses {${name}} and the record's value has no string or number there`);
  };
}

/** The problems of a template: a placeholder other than `{key}`, `{id}` or `{value.path}`. */
export function checkKeyTemplate(template: string, path: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1]!;
    if (name === 'key' || name === 'id' || /^value(\.[^.]+)+$/.test(name)) continue;
    problems.push({ path, message: `unknown placeholder {${name}}: use {key}, {id} or {value.field}`, column: match.index });
  }
  return problems;
}

export function compileKeyTemplate(template: string): KeyTemplate {
  const parts: Part[] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    if (match.index > last) parts.push(template.slice(last, match.index));
    parts.push(placeholder(match[1]!));
    last = match.index + match[0].length;
  }
  if (last < template.length) parts.push(template.slice(last));
  if (parts.length === 1 && typeof parts[0] === 'string') {
    const fixed = parts[0];
    return () => fixed;
  }
  return (record) => {
    let key = '';
    for (const part of parts) key += typeof part === 'string' ? part : part(record);
    return key;
  };
}
