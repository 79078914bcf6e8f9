import { errorMessage, toWireError, WireError } from '../core/errors.js';
import type { CliIo } from './io.js';

/** Every run that finished (or was drained on a signal) exits 0. */
export const EXIT_OK = 0;
/** A second SIGINT/SIGTERM exits at once, like a shell's 128 + SIGINT. */
export const EXIT_INTERRUPTED = 130;
/** stdout's reader went away (`wire run … | head -1`): 128 + SIGPIPE, what a shell reports for Unix tools. */
export const EXIT_STDOUT_CLOSED = 141;

/** The process exit code for any failure, from the single WireError table. */
export function exitCodeOf(error: unknown): number {
  return toWireError(error).exitCode;
}

/**
 * `wire: CODE: message`, then one indented line per detail, first the failed pipeline's name if it is one's; the
 * stack trace (and causes) only when debugging, because users need the message and operators the trace.
 */
export function formatError(error: unknown, options: { debug: boolean; pipeline?: string }): string {
  const wireError = toWireError(error);
  const lines = [`wire: ${wireError.code}: ${wireError.message}`];
  if (options.pipeline !== undefined) lines.push(`  pipeline: ${options.pipeline}`);
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

/** An error as `wire` prints it on stderr: `formatError`'s lines, or with `--json` one `{"type":"error"}` line. */
export function errorOutput(error: unknown, options: { json: boolean; debug: boolean; pipeline?: string }): string {
  if (!options.json) return formatError(error, options);
  const pipeline = options.pipeline === undefined ? {} : { pipeline: options.pipeline };
  return JSON.stringify({ type: 'error', ...pipeline, error: errorJson(error) }) + '\n';
}

/**
 * The exit code once stdout's fate is known. A command that succeeded but could not write all its output did not
 * succeed: a closed stdout ends it as SIGPIPE would (141, quietly), another failure is reported (UNAVAILABLE).
 */
export function exitCodeAfterStdout(exitCode: number, io: CliIo): number {
  const failure = io.stdoutFailure?.();
  if (exitCode !== EXIT_OK || failure === undefined) return exitCode;
  if (failure.code === 'EPIPE') return EXIT_STDOUT_CLOSED;
  const error = new WireError('UNAVAILABLE', `cannot write to stdout: ${errorMessage(failure)}`, {}, failure);
  io.stderr(formatError(error, { debug: false }));
  return exitCodeOf(error);
}
