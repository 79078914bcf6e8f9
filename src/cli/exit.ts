import { ERROR_TABLE, toWireError, WireError } from '../core/errors.js';

/** Every run that finished (or was drained on a signal) exits 0. */
export const EXIT_OK = 0;
/** A second SIGINT/SIGTERM exits at once, like a shell's 128 + SIGINT. */
export const EXIT_INTERRUPTED = 130;
/** Bad command-line usage is bad input: the same code as a bad pipeline file. */
export const EXIT_USAGE = ERROR_TABLE.INVALID_INPUT.exitCode;

/** The process exit code for any failure, from the single WireError table. */
export function exitCodeOf(error: unknown): number {
  return toWireError(error).exitCode;
}

/**
 * `wire: CODE: message`, then one indented line per detail; the stack trace (and causes) only when
 * debugging, because users need the message and operators the trace.
 */
export function formatError(error: unknown, options: { debug: boolean }): string {
  const wireError = toWireError(error);
  const lines = [`wire: ${wireError.code}: ${wireError.message}`];
  for (const [key, value] of Object.entries(wireError.details)) {
    lines.push(`  ${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
  if (options.debug) {
    for (let current: unknown = wireError; current instanceof Error; current = current.cause) {
      if (current.stack !== undefined) lines.push(current.stack);
    }
  }
  return lines.join('\n') + '\n';
}

/** The JSON form of an error, for `--json` output. */
export function errorJson(error: unknown): ReturnType<WireError['toJSON']>['error'] {
  return toWireError(error).toJSON().error;
}
