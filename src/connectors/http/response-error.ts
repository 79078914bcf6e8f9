import { WireError, type ErrorCode } from '../../core/errors.js';

/** Statuses worth retrying: the server asks for it (408, 429) or failed on its side (5xx). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function codeForStatus(status: number): ErrorCode {
  if (isRetryableStatus(status)) return status === 408 ? 'TIMEOUT' : 'UNAVAILABLE';
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'CONFLICT';
  return 'INVALID_INPUT';
}

/** A non-2xx answer as a WireError carrying the status, so the engine can tell retry from dead-letter. */
export function statusError(url: string, status: number, body: string): WireError {
  const retryable = isRetryableStatus(status);
  const excerpt = body.length > 500 ? body.slice(0, 500) + '…' : body;
  return new WireError(codeForStatus(status), `${url} answered ${status}`, { url, status, retryable, body: excerpt });
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** A failure before any answer (refused, reset, timed out): always worth retrying. */
export function networkError(url: string, err: unknown): WireError {
  const code = (err as { code?: unknown } | null)?.code;
  const timedOut = typeof code === 'string' && TIMEOUT_CODES.has(code);
  const message = err instanceof Error ? err.message : String(err);
  return new WireError(timedOut ? 'TIMEOUT' : 'UNAVAILABLE', `${url}: ${message}`, { url, retryable: true, cause: code ?? null }, err);
}
