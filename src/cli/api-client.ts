// The HTTP client of `wire pipeline` and `wire cluster`: one request to a node's API, its error body turned back
// into the WireError it was, so the exit code is the one the API's status came from.
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeWebStream } from 'node:stream/web';
import { ERROR_CODES, WireError, errorMessage, type ErrorCode } from '../core/errors.js';
import { clientTls, tlsFailure, type ClientTls, type ClientTlsFlags } from './api-tls.js';

/** Where the client commands send requests unless `--server` or `WIRE_SERVER` says otherwise. */
export const DEFAULT_SERVER = 'http://127.0.0.1:4001';

/** A request that takes longer is given up on (TIMEOUT): writes wait for a commit, never for ever. */
const REQUEST_TIMEOUT_MS = 30_000;

export interface ApiRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly json?: unknown;
  /** A pipeline file's text, sent as it is. */
  readonly text?: { readonly body: string; readonly contentType: string };
}

/** Where requests go, the TLS files to use with an https server, and the token to present (`cli/api-token.ts`). */
export interface ApiServer {
  readonly url: URL;
  readonly tls?: ClientTls;
  readonly token?: string;
}

/** `--server` (else WIRE_SERVER) and `--ca/--cert/--key` (else WIRE_CA, WIRE_CERT, WIRE_KEY). */
export function apiServer(options: ClientTlsFlags & { readonly server?: string }, env: Readonly<Record<string, string | undefined>>): ApiServer {
  const tls = clientTls(options, env);
  return { url: serverUrl(options.server, env), ...(tls ? { tls } : {}) };
}

export function serverUrl(option: string | undefined, env: Readonly<Record<string, string | undefined>>): URL {
  const raw = option ?? env['WIRE_SERVER'] ?? DEFAULT_SERVER;
  try {
    const url = new URL(raw.includes('://') ? raw : `http://${raw}`);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`unsupported protocol ${url.protocol}`);
    return url;
  } catch (error) {
    throw new WireError('INVALID_INPUT', `--server: not an http(s) URL: ${raw} (${errorMessage(error)})`, { field: 'server' });
  }
}

function bearer(target: ApiServer): Record<string, string> {
  return target.token === undefined ? {} : { authorization: `Bearer ${target.token}` };
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** The WireError an error answer carries; a body not in the API's shape is still an error, by its status. */
function answerError(status: number, body: unknown): WireError {
  const error = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (error !== undefined && isErrorCode(error.code)) {
    const details = typeof error.details === 'object' && error.details !== null ? (error.details as Record<string, unknown>) : {};
    return new WireError(error.code, typeof error.message === 'string' ? error.message : `HTTP ${status}`, details);
  }
  const code: ErrorCode = status === 404 ? 'NOT_FOUND' : status === 503 ? 'UNAVAILABLE' : status >= 500 ? 'INTERNAL' : 'INVALID_INPUT';
  return new WireError(code, `the server answered HTTP ${status} without a Wire error body`, { status });
}

/** Sends one request and returns the JSON answer, or throws the API's WireError. */
export async function callApi(target: ApiServer, request: ApiRequest): Promise<unknown> {
  const server = target.url;
  const url = new URL(request.path, server);
  const headers: Record<string, string> = { accept: 'application/json', ...bearer(target) };
  let body: string | undefined;
  if (request.text !== undefined) {
    headers['content-type'] = request.text.contentType;
    body = request.text.body;
  } else if (request.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(request.json);
  }
  let response: Pick<Response, 'ok' | 'status' | 'text'>;
  try {
    response = await send(url, { method: request.method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) }, target.tls);
  } catch (error) {
    const tls = tlsFailure(error, server, target.tls);
    if (tls) throw tls;
    if (error instanceof Error && error.name === 'TimeoutError') {
      throw new WireError('TIMEOUT', `no answer from ${server.origin} within ${REQUEST_TIMEOUT_MS / 1000} s`, { server: server.origin }, error);
    }
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : errorMessage(error);
    // A TLS 1.3 server refuses a missing client certificate after the handshake: the client only sees the connection close.
    const hint =
      server.protocol === 'http:' ? 'is `wire node` running? does it serve https://? see --server' : target.tls?.cert ? 'is `wire node` running? see --server' : 'is `wire node` running? does it require a client certificate (--cert, --key)? see --server';
    throw new WireError('UNAVAILABLE', `cannot reach the Wire API at ${server.origin}: ${cause} (${hint})`, { server: server.origin }, error);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!response.ok) throw answerError(response.status, parsed);
  if (parsed === undefined) throw new WireError('INTERNAL', `the server answered ${request.method} ${request.path} with a body that is not JSON`, { status: response.status });
  return parsed;
}

/**
 * Streams a binary answer (a backup) into `file`: written beside it first and renamed once the whole body has
 * arrived, so `file` is never a cut-short copy. The timeout covers the answer's start, not its length.
 */
export async function downloadApi(target: ApiServer, path: string, file: string): Promise<{ bytes: number }> {
  const server = target.url;
  const url = new URL(path, server);
  const fetcher = await streamingFetch(target.tls);
  try {
    return await download(fetcher, target, url, file);
  } finally {
    await fetcher.close();
  }
}

async function download(fetcher: StreamingFetch, target: ApiServer, url: URL, file: string): Promise<{ bytes: number }> {
  const server = target.url;
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new WireError('TIMEOUT', `no answer from ${server.origin} within ${REQUEST_TIMEOUT_MS / 1000} s`, { server: server.origin })), REQUEST_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetcher.fetch(url, { headers: { accept: 'application/octet-stream, application/json', ...bearer(target) }, signal: abort.signal });
  } catch (error) {
    if (error instanceof WireError) throw error;
    const tls = tlsFailure(error, server, target.tls);
    if (tls) throw tls;
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : errorMessage(error);
    throw new WireError('UNAVAILABLE', `cannot reach the Wire API at ${server.origin}: ${cause} (is \`wire node\` running? see --server)`, { server: server.origin }, error);
  } finally {
    clearTimeout(timer);
  }
  if (!response.ok || response.body === null) {
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    throw answerError(response.status, parsed);
  }
  const partial = `${file}.partial`;
  let bytes = 0;
  try {
    const counted = Readable.fromWeb(response.body as NodeWebStream).on('data', (chunk: Buffer) => (bytes += chunk.length));
    await pipeline(counted, createWriteStream(partial, { flags: 'wx' }));
    await rename(partial, file);
  } catch (error) {
    // Another backup's file is left alone.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new WireError('CONFLICT', `${partial} exists (another backup running, or a failed one: remove it)`, { file: partial }, error);
    await rm(partial, { force: true });
    throw new WireError('UNAVAILABLE', `the backup from ${server.origin} was cut short: ${errorMessage(error)}`, { server: server.origin }, error);
  }
  return { bytes };
}

interface StreamingFetch {
  fetch(url: URL, init: RequestInit): Promise<Response>;
  close(): Promise<void>;
}
/** A fetch whose answer is read as a stream: Node's, or with client TLS files undici's with an agent presenting them. */
async function streamingFetch(tls: ClientTls | undefined): Promise<StreamingFetch> {
  if (tls === undefined) return { fetch: (url, init) => fetch(url, init), close: () => Promise.resolve() };
  const undici = await import('undici');
  const agent = new undici.Agent({ connect: { ...tls } });
  return {
    fetch: (url, init) => undici.fetch(url, { headers: init.headers as Record<string, string>, signal: init.signal, dispatcher: agent }) as unknown as Promise<Response>,
    close: () => agent.close(),
  };
}

/** Node's fetch; with client TLS files, undici's (loaded only then) with an agent that presents them. */
async function send(url: URL, init: RequestInit, tls: ClientTls | undefined): Promise<Pick<Response, 'ok' | 'status' | 'text'>> {
  if (tls === undefined) return fetch(url, init);
  const undici = await import('undici');
  const agent = new undici.Agent({ connect: { ...tls } });
  try {
    const response = await undici.fetch(url, { method: init.method, headers: init.headers as Record<string, string>, body: init.body as string | undefined, signal: init.signal, dispatcher: agent });
    const text = await response.text();
    return { ok: response.ok, status: response.status, text: () => Promise.resolve(text) };
  } finally {
    await agent.close();
  }
}
