import type { DestinationStream } from 'pino';
import { isWireError } from '../core/errors.js';
import { createLogger, type Logger } from '../observability/logger.js';
import type { LogLevel } from './log-levels.js';

export interface CliLoggerOptions {
  readonly level: LogLevel;
  /** Machine output (`--json`): JSON lines at every level. */
  readonly json: boolean;
  /** Where each finished line goes, synchronously (a line is never lost when the process exits right after it). */
  readonly write: (text: string) => void;
}

/** Stack traces, causes and whatever else an error object holds (records and their internals) are for debugging. */
function isDebug(level: LogLevel): boolean {
  return level === 'debug' || level === 'trace';
}

/**
 * An error as a user reads it: its code, its own message (pino's default appends every cause's message, which
 * repeats what a WireError's message already says) and its details.
 */
function briefError(error: unknown): unknown {
  if (isWireError(error)) return { code: error.code, message: error.message, details: error.details };
  if (error instanceof Error) return { message: error.message };
  return error;
}

/** pino's own fields, left out of a text line. */
const BASE_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'pipeline', 'err']);

/** `wire: PIPELINE: message (key=value, …): CODE: error message` — one line for one logged event. */
export function textLogLine(json: string): string {
  const entry = JSON.parse(json) as Record<string, unknown>;
  let line = 'wire: ';
  if (typeof entry.pipeline === 'string') line += `${entry.pipeline}: `;
  line += String(entry.msg ?? '');
  const fields = Object.entries(entry)
    .filter(([key, value]) => !BASE_FIELDS.has(key) && value !== null && typeof value !== 'object')
    .map(([key, value]) => `${key}=${String(value)}`);
  if (fields.length > 0) line += ` (${fields.join(', ')})`;
  const err = entry.err;
  if (typeof err === 'object' && err !== null) {
    const { code, message } = err as { code?: unknown; message?: unknown };
    line += typeof code === 'string' ? `: ${code}` : '';
    line += `: ${String(message)}`;
  } else if (err !== undefined) {
    line += `: ${String(err)}`;
  }
  return line + '\n';
}

/**
 * The run's logger. Below debug, each event is one line a person reads (`textLogLine`), or with `--json` a
 * JSON line whose error is brief; at debug and trace, pino's full JSON with stack traces and every field.
 */
export function createCliLogger(options: CliLoggerOptions): Logger {
  const debug = isDebug(options.level);
  const asText = !debug && !options.json;
  const destination: DestinationStream = {
    write: (line: string) => options.write(asText ? textLogLine(line) : line),
  };
  const logger = createLogger({ level: options.level, name: 'wire', destination });
  if (debug) return logger;
  return logger.child({}, { serializers: { err: briefError } });
}
