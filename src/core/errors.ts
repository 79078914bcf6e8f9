import type { WireRecord } from './record.js';

/**
 * WireError: every failure that reaches a user carries one of these codes.
 * One table maps each code to its HTTP status and CLI exit code, so the API and the CLI never disagree.
 */
export const ERROR_CODES = [
  'INVALID_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'TIMEOUT',
  'NOT_LEADER',
  'UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorMapping {
  readonly httpStatus: number;
  readonly exitCode: number;
}

/** The single table from error code to HTTP status and CLI exit code. */
export const ERROR_TABLE: Readonly<Record<ErrorCode, ErrorMapping>> = {
  INVALID_INPUT: { httpStatus: 400, exitCode: 2 },
  UNAUTHORIZED: { httpStatus: 401, exitCode: 3 },
  FORBIDDEN: { httpStatus: 403, exitCode: 3 },
  RATE_LIMITED: { httpStatus: 429, exitCode: 3 },
  NOT_FOUND: { httpStatus: 404, exitCode: 4 },
  CONFLICT: { httpStatus: 409, exitCode: 5 },
  TIMEOUT: { httpStatus: 504, exitCode: 6 },
  NOT_LEADER: { httpStatus: 421, exitCode: 7 },
  UNAVAILABLE: { httpStatus: 503, exitCode: 7 },
  INTERNAL: { httpStatus: 500, exitCode: 1 },
};

export type ErrorDetails = Readonly<Record<string, unknown>>;

export class WireError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;

  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'WireError';
    this.code = code;
    this.details = details;
  }

  get httpStatus(): number {
    return ERROR_TABLE[this.code].httpStatus;
  }

  get exitCode(): number {
    return ERROR_TABLE[this.code].exitCode;
  }

  /** The JSON body every API error uses. */
  toJSON(): { error: { code: ErrorCode; message: string; details: ErrorDetails } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}


/**
 * Thrown by a sink's `write` or `flush` when the destination refused some records for good (an HTTP 4xx), or
 * when a sink that retries its own requests gave up on them after `attempts` tries. They may include records
 * an earlier `write` accepted: the sink has let go of them, and everything else it holds stays accepted. The
 * engine sends them where `on_error` says, as it does records it gave up on.
 */
export class RecordsRefused extends WireError {
  constructor(
    readonly records: readonly WireRecord[],
    readonly reason: WireError,
    readonly attempts = 1,
  ) {
    super(reason.code, `${records.length} record(s) refused: ${reason.message}`, { ...reason.details, retryable: false }, reason);
    this.name = 'RecordsRefused';
  }
}

export function isWireError(value: unknown): value is WireError {
  return value instanceof WireError;
}

/** Wraps anything thrown into a WireError, keeping the original as `cause`. */
export function toWireError(value: unknown, code: ErrorCode = 'INTERNAL'): WireError {
  if (value instanceof WireError) return value;
  if (value instanceof Error) return new WireError(code, value.message, {}, value);
  return new WireError(code, String(value));
}

export function errorMessage(value: unknown): string {
  return value instanceof Error ? value.message : String(value);
}
