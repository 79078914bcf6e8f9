// The client commands' TLS: `--ca`, `--cert`, `--key` (or WIRE_CA, WIRE_CERT, WIRE_KEY) for a node whose API
// serves HTTPS, and the TLS failures a user meets told as what they mean, with what to give instead.
import { readFileSync } from 'node:fs';
import { WireError, errorMessage } from '../core/errors.js';

/** PEM contents: the CA to trust for the server (else the system's), and a client certificate and key. */
export interface ClientTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export interface ClientTlsFlags {
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

function read(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new WireError('INVALID_INPUT', `--${flag}: cannot read ${path}: ${errorMessage(error)}`, { flag: `--${flag}` });
  }
}

/** The files the flags (else WIRE_CA, WIRE_CERT, WIRE_KEY) name, read; undefined when none is given. */
export function clientTls(flags: ClientTlsFlags, env: Readonly<Record<string, string | undefined>>): ClientTls | undefined {
  const pick = (name: 'ca' | 'cert' | 'key'): string | undefined => flags[name] ?? (env[`WIRE_${name.toUpperCase()}`] || undefined);
  const [ca, cert, key] = [pick('ca'), pick('cert'), pick('key')];
  if ((cert === undefined) !== (key === undefined)) {
    const missing = cert === undefined ? 'cert' : 'key';
    throw new WireError('INVALID_INPUT', `--${missing}: required with --${missing === 'cert' ? 'key' : 'cert'} (or WIRE_${missing.toUpperCase()})`, { flag: `--${missing}` });
  }
  if (ca === undefined && cert === undefined) return undefined;
  return {
    ...(ca === undefined ? {} : { ca: read('ca', ca) }),
    ...(cert === undefined || key === undefined ? {} : { cert: read('cert', cert), key: read('key', key) }),
  };
}

/** OpenSSL's and Node's codes for a server certificate this client cannot trust. */
const UNTRUSTED_SERVER = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
]);

/** The innermost cause's message: fetch's own is only 'fetch failed'. */
function rootMessage(error: unknown): string {
  let e = error;
  for (let depth = 0; e instanceof Error && e.cause instanceof Error && depth < 5; depth++) e = e.cause;
  return errorMessage(e);
}

function codeOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && (UNTRUSTED_SERVER.has(code) || code.startsWith('ERR_SSL_'))) return code;
  }
  return undefined;
}

/** The WireError for a request that failed in TLS, or undefined when the failure was not TLS's. */
export function tlsFailure(error: unknown, server: URL, tls: ClientTls | undefined): WireError | undefined {
  const code = codeOf(error);
  const details = { server: server.origin, tls: code };
  if (code !== undefined && UNTRUSTED_SERVER.has(code)) {
    const hint = code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? 'reach it by a name its certificate has (wire certs issue --dns/--ip)' : tls?.ca ? 'is --ca the CA that issued it?' : 'give --ca with the CA that issued it';
    return new WireError('UNAUTHORIZED', `the certificate of ${server.origin} is not trusted: ${rootMessage(error)} (${hint})`, details, error);
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG') {
    return new WireError('UNAVAILABLE', `${server.origin} does not speak TLS (try http:// instead of https://)`, details, error);
  }
  if (code !== undefined && /CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED|DECRYPT_ERROR/.test(code)) {
    const hint = tls?.cert ? 'is --cert issued by the CA the node trusts (its --http-ca)?' : 'it requires a client certificate: give --cert and --key';
    return new WireError('UNAUTHORIZED', `${server.origin} refused this client's certificate (${code}): ${hint}`, details, error);
  }
  if (code !== undefined) return new WireError('UNAVAILABLE', `TLS with ${server.origin} failed: ${rootMessage(error)}`, details, error);
  return undefined;
}
