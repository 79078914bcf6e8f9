import { pino, type DestinationStream } from 'pino';
import type { SecretRedactor } from '../config/index.js';
import type { CliIo } from './io.js';

/** The command's io with stderr (errors, summaries, problems) kept free of the values of secret files. */
export function redactedIo(io: CliIo, redactor: SecretRedactor): CliIo {
  return { ...io, stderr: (text) => io.stderr(redactor.redact(text)) };
}

/** Log lines on stderr, written synchronously as the CLI's logger writes them, without secrets. */
export function redactedLogDestination(redactor: SecretRedactor): DestinationStream {
  const stderr = pino.destination({ fd: 2, sync: true });
  return { write: (line: string) => void stderr.write(redactor.redact(line)) };
}
