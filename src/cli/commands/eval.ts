import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { WireError, errorMessage, isWireError } from '../../core/errors.js';
import { compileExpression, type CompiledExpression } from '../../transforms/expr/index.js';
import { EXIT_OK, exitCodeOf, formatError } from '../exit.js';
import type { CliIo } from '../io.js';

/** The expression with a caret under the column an error names. */
function pointAt(expression: string, error: unknown): string {
  const column = isWireError(error) ? error.details['column'] : undefined;
  if (typeof column !== 'number' || expression.includes('\n')) return '';
  return `  ${expression}\n  ${' '.repeat(column - 1)}^\n`;
}

/**
 * `wire eval EXPR`: evaluates an expression (docs/expressions.md) against each JSON record on stdin, one per line,
 * and prints each result as a line of JSON. A record that fails prints its line number and error on stderr and the
 * rest go on; exits 2 when the expression is not valid or any record failed.
 */
export async function evalCommand(expression: string, io: CliIo): Promise<number> {
  let evaluate: CompiledExpression;
  try {
    evaluate = compileExpression(expression);
  } catch (error) {
    const message = isWireError(error) ? error.message : errorMessage(error);
    io.stderr(formatError(new WireError('INVALID_INPUT', `expression: ${message}`), { debug: false }) + pointAt(expression, error));
    return exitCodeOf(error);
  }
  let line = 0;
  let records = 0;
  let failed = 0;
  const lines = createInterface({ input: io.stdin ?? Readable.from([]), crlfDelay: Infinity });
  for await (const text of lines) {
    line++;
    if (text.trim() === '') continue;
    records++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      failed++;
      io.stderr(`line ${line}: not JSON: ${errorMessage(error)}\n`);
      continue;
    }
    try {
      io.stdout(JSON.stringify(evaluate(value)) + '\n');
    } catch (error) {
      failed++;
      io.stderr(`line ${line}: ${errorMessage(error)}\n`);
    }
  }
  if (failed === 0) return EXIT_OK;
  const error = new WireError('INVALID_INPUT', `${failed} of ${records} record${records === 1 ? '' : 's'} failed`);
  io.stderr(formatError(error, { debug: false }));
  return exitCodeOf(error);
}
