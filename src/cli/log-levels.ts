/** The levels `--log-level` accepts (pino's), kept apart from the logger so `wire --help` loads no pino. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
