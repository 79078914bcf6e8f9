/**
 * `wire node`'s TLS flags, and the files they name read into `node:tls` options: mutual TLS on the node port
 * (Raft and cluster RPC, both directions) and TLS on the HTTP API, optionally with client certificates. Every
 * file is checked when read (PEM, key matching its certificate, validity dates, a node certificate naming this
 * node), so a bad file is an INVALID_INPUT naming its flag at start-up or on reload, never a failed handshake later.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type tls from 'node:tls';
import { WireError } from '../core/errors.js';
import { certificateNodeIds, nodeIdUri, peerIdentityError } from '../raft/transport/peer-identity.js';

/** A TLS client that has not finished its handshake by then is cut off (Node's default is 120 s). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

export type TlsMinVersion = 'TLSv1.2' | 'TLSv1.3';

export interface TlsConfig {
  /** The oldest protocol either port (and every outbound node connection) accepts: TLS 1.3 unless `--tls-min-version 1.2`. */
  readonly minVersion: TlsMinVersion;
  /** The HTTP API's certificate; with `verifyClient`, clients must present a certificate from `ca`. */
  readonly http?: { readonly cert: string; readonly key: string; readonly ca?: string; readonly verifyClient: boolean };
  /** The node port's certificate and the cluster CA every peer's certificate must come from. */
  readonly node?: { readonly cert: string; readonly key: string; readonly ca: string };
}

/** The node port's options: `server` for accepted connections, `client` for the ones this node opens. */
export interface NodeTls {
  readonly server: tls.TlsOptions;
  readonly client: tls.ConnectionOptions;
}

/** The TLS flags' values (each flag, else its `WIRE_*` variable), by flag name. */
export interface TlsFlagValues {
  readonly 'http-cert'?: string;
  readonly 'http-key'?: string;
  readonly 'http-ca'?: string;
  readonly 'http-verify-client': boolean;
  readonly 'node-cert'?: string;
  readonly 'node-key'?: string;
  readonly 'node-ca'?: string;
  readonly 'tls-min-version'?: string;
}

function bad(flag: string, message: string): WireError {
  return new WireError('INVALID_INPUT', `--${flag}: ${message}`, { flag: `--${flag}` });
}

export function parseTlsFlags(values: TlsFlagValues): TlsConfig {
  const version = values['tls-min-version'] ?? '1.3';
  if (version !== '1.2' && version !== '1.3') throw bad('tls-min-version', `'${version}' is not 1.2 or 1.3`);
  const pair = (prefix: 'http' | 'node'): { cert: string; key: string } | undefined => {
    const cert = values[`${prefix}-cert`];
    const key = values[`${prefix}-key`];
    if ((cert === undefined) !== (key === undefined)) throw bad(cert === undefined ? `${prefix}-cert` : `${prefix}-key`, `required with --${prefix}-${cert === undefined ? 'key' : 'cert'}`);
    return cert === undefined || key === undefined ? undefined : { cert, key };
  };
  const http = pair('http');
  const httpCa = values['http-ca'];
  const verifyClient = values['http-verify-client'];
  if (!http && (httpCa !== undefined || verifyClient)) throw bad(httpCa !== undefined ? 'http-ca' : 'http-verify-client', 'needs --http-cert and --http-key (TLS on the HTTP API)');
  if (verifyClient && httpCa === undefined) throw bad('http-verify-client', 'needs --http-ca: the CA client certificates are checked against');
  const node = pair('node');
  const nodeCa = values['node-ca'];
  if (node && nodeCa === undefined) throw bad('node-ca', 'required with --node-cert: the cluster CA every peer certificate must come from');
  if (!node && nodeCa !== undefined) throw bad('node-ca', 'needs --node-cert and --node-key');
  return {
    minVersion: version === '1.2' ? 'TLSv1.2' : 'TLSv1.3',
    ...(http ? { http: { ...http, ...(httpCa === undefined ? {} : { ca: httpCa }), verifyClient } } : {}),
    ...(node && nodeCa !== undefined ? { node: { ...node, ca: nodeCa } } : {}),
  };
}

async function readPem(flag: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw bad(flag, `cannot read ${path}: ${(error as Error).message}`);
  }
}

function certificate(flag: string, path: string, pem: Buffer, now: number): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (error) {
    throw bad(flag, `${path} is not a PEM certificate: ${(error as Error).message}`);
  }
  if (Date.parse(cert.validTo) < now) throw bad(flag, `${path} expired on ${cert.validTo}`);
  if (Date.parse(cert.validFrom) > now) throw bad(flag, `${path} is not valid before ${cert.validFrom}`);
  return cert;
}

/** A certificate, its key and the CA, read and checked against each other. */
async function readPair(prefix: string, files: { cert: string; key: string; ca?: string }, caIssuedCert: boolean): Promise<{ cert: Buffer; key: Buffer; ca?: Buffer; x509: X509Certificate }> {
  const now = Date.now();
  const [cert, key, ca] = await Promise.all([
    readPem(`${prefix}-cert`, files.cert),
    readPem(`${prefix}-key`, files.key),
    files.ca === undefined ? undefined : readPem(`${prefix}-ca`, files.ca),
  ]);
  const x509 = certificate(`${prefix}-cert`, files.cert, cert, now);
  let matches: boolean;
  try {
    matches = x509.checkPrivateKey(createPrivateKey(key));
  } catch (error) {
    throw bad(`${prefix}-key`, `${files.key} is not a PEM private key: ${(error as Error).message}`);
  }
  if (!matches) throw bad(`${prefix}-key`, `${files.key} is not the key of ${files.cert}`);
  if (ca !== undefined && files.ca !== undefined) {
    const caCert = certificate(`${prefix}-ca`, files.ca, ca, now);
    if (!caIssuedCert) return { cert, key, ca, x509 };
    // A CA file may hold several certificates (a rotation); the leaf must come from one of them.
    const issuers = splitPem(ca).map((pem) => new X509Certificate(pem));
    if (!issuers.some((issuer) => x509.checkIssued(issuer) && x509.verify(issuer.publicKey))) {
      throw bad(`${prefix}-cert`, `${files.cert} was not issued by the CA in ${files.ca} (${caCert.subject.replaceAll('\n', ', ')})`);
    }
  }
  return { cert, key, ...(ca === undefined ? {} : { ca }), x509 };
}

function splitPem(pem: Buffer): string[] {
  return pem.toString('utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

/**
 * The node port's options for node `nodeId`. The identity a peer proves is the node id in its certificate, not a
 * host name: outbound connections check the CA and that the server's certificate names a node (Raft's transport
 * then checks it names the node it dialled); the node port refuses a client certificate naming no node.
 */
export async function readNodeTls(config: TlsConfig, nodeId: string): Promise<NodeTls | undefined> {
  if (!config.node) return undefined;
  const { cert, key, ca, x509 } = await readPair('node', config.node, true);
  const wrong = peerIdentityError({ subjectaltname: x509.subjectAltName ?? '' }, nodeId);
  if (wrong) throw bad('node-cert', `${config.node.cert} is not a certificate for this node: it must name ${nodeIdUri(nodeId)} (${wrong.message}); issue one with \`wire certs issue --node ${nodeId}\``);
  const common = { cert, key, ca, minVersion: config.minVersion };
  return {
    server: { ...common, requestCert: true, rejectUnauthorized: true, handshakeTimeout: HANDSHAKE_TIMEOUT_MS },
    client: {
      ...common,
      rejectUnauthorized: true,
      checkServerIdentity: (_host, peer) => (certificateNodeIds(peer).length > 0 ? undefined : new Error('the peer\'s certificate names no Wire node (wire-node:<id>)')),
    },
  };
}

/** The HTTP API's `https` options, or undefined for plain HTTP. */
export async function readHttpTls(config: TlsConfig): Promise<tls.TlsOptions | undefined> {
  if (!config.http) return undefined;
  // The HTTP CA checks clients; the server's own certificate may come from another CA.
  const { cert, key, ca } = await readPair('http', config.http, false);
  return {
    cert,
    key,
    ...(ca === undefined ? {} : { ca }),
    minVersion: config.minVersion,
    requestCert: config.http.verifyClient,
    rejectUnauthorized: config.http.verifyClient,
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
  };
}
