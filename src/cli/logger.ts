import { pino, type DestinationStream } from 'pino';
import { createLogger, type Logger } from '../observability/logger.js';
import type { LogLevel } from './log-levels.js';

/** Logged errors keep their type, message, code and details; stack traces only at debug and trace. */
function errorWithoutStack(error: unknown): unknown {
  const serialized: unknown = pino.stdSerializers.err(error as Error);
  if (typeof serialized !== 'object' || serialized === null) return serialized;
  const { stack: _stack, ...rest } = serialized as Record<string, unknown>;
  return rest;
}

/**
 * The run's logger: JSON lines on stderr, written synchronously so a log line is never lost when
 * the process exits right after it (a second signal exits at once).
 */
export function createCliLogger(
  level: LogLevel,
  destination: DestinationStream = pino.destination({ fd: 2, sync: true }),
): Logger {
  const logger = createLogger({ level, name: 'wire', destination });
  if (level === 'debug' || level === 'trace') return logger;
  return logger.child({}, { serializers: { err: errorWithoutStack } });
}
