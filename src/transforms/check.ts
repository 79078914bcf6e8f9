import { isWireError } from '../core/errors.js';
import type { ConfigProblem } from '../core/ports.js';
import { compileExpression } from './expr/index.js';
import { fieldPathProblem } from './field-path.js';

/** The problem with the expression at `path` of a transform's config, naming its column. */
export function expressionProblems(path: string, source: string): ConfigProblem[] {
  try {
    compileExpression(source);
    return [];
  } catch (err) {
    if (!isWireError(err)) throw err;
    const column = err.details['column'];
    return [{ path, message: err.message, column: typeof column === 'number' ? column : undefined }];
  }
}

export function fieldPathProblems(path: string, fieldPath: string): ConfigProblem[] {
  const message = fieldPathProblem(fieldPath);
  return message === undefined ? [] : [{ path, message }];
}
