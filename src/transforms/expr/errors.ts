import { WireError } from '../../core/errors.js';

/** A compile error: the message and `details.column` (1-based) name where the expression went wrong. */
export function compileError(source: string, offset: number, message: string, hint = ''): WireError {
  const column = offset + 1;
  return new WireError('INVALID_INPUT', `${message} at column ${column}${hint}`, { expression: source, column });
}

/** Where an operator or function call sits in its expression, for runtime errors. */
export interface Site {
  readonly source: string;
  readonly offset: number;
  readonly name: string;
}

/** A runtime error (a function given the wrong type): names the operator or function and its column. */
export function runtimeError(site: Site, message: string): WireError {
  const column = site.offset + 1;
  return new WireError('INVALID_INPUT', `${site.name} ${message} at column ${column}`, {
    expression: site.source,
    column,
  });
}

/** The type name users see in messages: JSON's, not JavaScript's. */
export function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'array';
  const t = typeof value;
  return t === 'object' ? 'object' : t;
}
