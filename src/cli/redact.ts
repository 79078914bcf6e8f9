import type { SecretRedactor } from '../config/index.js';
import type { CliIo } from './io.js';

/** The command's io with stderr (errors, summaries, problems) kept free of the values of secret files. */
export function redactedIo(io: CliIo, redactor: SecretRedactor): CliIo {
  return { ...io, stderr: (text) => io.stderr(redactor.redact(text)) };
}

