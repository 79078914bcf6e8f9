import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  /** `info` unless told; `silent` turns logging off. */
  readonly level?: LevelWithSilent;
  /** Where JSON lines go; stderr by default so stdout stays free for a pipeline's output. */
  readonly destination?: DestinationStream;
  readonly name?: string;
}

const SECRET_KEYS = ['password', 'token', 'secret'];

/** Secrets may sit at any of the first few levels of a logged object (a component's config, its spec). */
const REDACT_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`, `*.*.*.*.${key}`]);

/** The one logger factory: JSON lines, secrets redacted whatever object carries them. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const config = {
    level: options.level ?? 'info',
    name: options.name,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
  };
  return pino(config, options.destination ?? pino.destination(2));
}

/** A logger that writes nothing, for embedding and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
