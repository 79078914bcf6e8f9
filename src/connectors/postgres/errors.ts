import { WireError, type ErrorCode } from '../../core/errors.js';

/** Where a DSN points, without its credentials: for errors and logs. */
export function postgresEndpoint(dsn: string): string {
  try {
    const url = new URL(dsn);
    return `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname}`;
  } catch {
    return '(unparseable dsn)';
  }
}

/** Errors that a new connection may not see again (the server restarting, the network): worth a retry. */
export function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return error instanceof Error && /Connection terminated|not queryable|timeout|ECONN|EPIPE|socket/i.test(error.message);
  // Class 08: connection exception; 57P0x: the server is shutting down or starting; 53: out of resources.
  return /^(08|57P0|53)/.test(code) || /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|AI_AGAIN)$/.test(code);
}

/** A pg error as a WireError whose code says what to do: fix the config, the credentials, or wait for the server. */
export function postgresError(what: string, endpoint: string, error: unknown): WireError {
  if (error instanceof WireError) return error;
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  let wireCode: ErrorCode = 'UNAVAILABLE';
  if (code === '28P01' || code === '28000') wireCode = 'UNAUTHORIZED';
  else if (typeof code === 'string' && /^(3D|42|22|23)/.test(code)) wireCode = 'INVALID_INPUT';
  return new WireError(wireCode, `postgres at ${endpoint}: ${what} failed: ${message}`, { endpoint, ...(typeof code === 'string' ? { sqlstate: code } : {}) }, error);
}
