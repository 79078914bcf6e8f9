/**
 * The HTTP API over TLS: an https server for Fastify (`--http-cert/--http-key`, client certificates checked
 * against `--http-ca` with `--http-verify-client`), and its certificates replaced in place on reload.
 */
import type http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { FastifyServerFactory } from 'fastify';
import { WireError } from '../core/errors.js';

export function httpsServerFactory(options: tls.TlsOptions): FastifyServerFactory {
  return (handler) => https.createServer(options, handler);
}

/** New certificates for connections accepted from now on; open connections keep theirs. */
export function reloadServerTls(server: http.Server, options: tls.SecureContextOptions): void {
  if (!(server instanceof tls.Server)) throw new WireError('INVALID_INPUT', 'the HTTP API was started without TLS: restart the node to turn it on');
  server.setSecureContext(options);
}
