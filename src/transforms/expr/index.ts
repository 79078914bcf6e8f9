import { WireError } from '../../core/errors.js';
import { compileNode } from './compiler.js';
import { parse } from './parser.js';

export { FUNCTION_NAMES } from './functions.js';
export { truthy } from './values.js';

/** A compiled expression: evaluates against a record's value; never returns undefined. */
export type CompiledExpression = (value: unknown) => unknown;

/**
 * Compiles an expression of Wire's expression language (docs/expressions.md) into a function.
 * Throws WireError INVALID_INPUT naming the column (`details.column`, 1-based) when the text is not valid.
 */
export function compileExpression(source: string): CompiledExpression {
  if (typeof source !== 'string') {
    throw new WireError('INVALID_INPUT', `an expression must be a string, got ${source === null ? 'null' : typeof source}`);
  }
  return compileNode(parse(source), source);
}
