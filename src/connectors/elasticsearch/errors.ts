import { WireError, type ErrorCode } from '../../core/errors.js';

/** Where a url points, without its credentials: for errors and logs. */
export function elasticEndpoint(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}`;
  } catch {
    return '(unparseable url)';
  }
}

/** The HTTP status of a client error that carries an answer (`ResponseError`), else undefined (0 means no answer). */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { meta?: { statusCode?: unknown } } | undefined)?.meta?.statusCode;
  return typeof status === 'number' && status > 0 ? status : undefined;
}

/**
 * Whether sending the same request again may succeed: no answer (refused, reset, timed out) or a server that is
 * starting, overloaded or between masters (429, 502, 503, 504).
 */
export function isTransient(error: unknown): boolean {
  const status = statusOf(error);
  if (status !== undefined) return status === 429 || status === 502 || status === 503 || status === 504;
  const name = (error as { name?: unknown } | undefined)?.name;
  return name === 'ConnectionError' || name === 'TimeoutError' || name === 'NoLivingConnectionsError';
}

/** A client error as a WireError whose code says what to do: fix the config, the credentials, or wait. */
export function elasticError(what: string, endpoint: string, error: unknown): WireError {
  if (error instanceof WireError) return error;
  const status = statusOf(error);
  const message = error instanceof Error ? error.message : String(error);
  let code: ErrorCode = 'UNAVAILABLE';
  if (status === 401 || status === 403) code = 'UNAUTHORIZED';
  else if (status !== undefined && status >= 400 && status < 500 && status !== 429) code = 'INVALID_INPUT';
  return new WireError(code, `elasticsearch at ${endpoint}: ${what} failed: ${message}`, { endpoint, ...(status === undefined ? {} : { status }) }, error);
}
