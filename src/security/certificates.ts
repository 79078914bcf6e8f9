/**
 * Certificates for a Wire cluster, made with @peculiar/x509 over Node's WebCrypto (OpenSSL does the key
 * generation and signing; nothing shells out): a development CA, node certificates (server and client use,
 * named `wire-node:<id>` for the node port and by DNS/IP names for the HTTP API) and client certificates.
 * Keys are ECDSA P-256: small and cheap to handshake with.
 */
import 'reflect-metadata';
import { KeyObject, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { WireError } from '../core/errors.js';
import { nodeIdUri } from '../raft/transport/peer-identity.js';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto);

/** A certificate and its private key, both PEM. */
export interface IssuedPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface LeafRequest {
  /** `node`: server and client use, with the `wire-node:<name>` URI name; `client`: client use only. */
  readonly kind: 'node' | 'client';
  readonly name: string;
  readonly dns: readonly string[];
  readonly ips: readonly string[];
  readonly days: number;
}

async function newKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
}

function keyPem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** A positive 128-bit serial (RFC 5280 allows 20 octets; the high bit is cleared so it is not negative). */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes.toString('hex');
}

/** A distinguished-name value with `,`, `+`, `"`, `\`, `<`, `>`, `;` and `=` escaped (RFC 4514). */
function dnValue(text: string): string {
  return text.replace(/[,+"\\<>;=]/g, (c) => `\\${c}`);
}

/** PEM ending in a newline, so that `cat a.crt b.crt` makes a valid bundle (a CA rotation's trust file). */
function pemText(cert: x509.X509Certificate): string {
  return `${cert.toString('pem').trimEnd()}\n`;
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  // A minute back: a peer whose clock is slightly behind must not see a certificate from the future.
  const now = Date.now();
  return { notBefore: new Date(now - 60_000), notAfter: new Date(now + days * DAY_MS) };
}

/** A self-signed CA that may sign leaf certificates only (path length 0). */
export async function createCa(commonName: string, days: number): Promise<IssuedPair> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${dnValue(commonName)}`,
    ...validity(days),
    signingAlgorithm: ALGORITHM,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: pemText(cert), keyPem: keyPem(keys.privateKey) };
}

/** The CA's certificate and key as read back from PEM; INVALID_INPUT when they are not a CA pair. */
export async function loadCa(certPem: string, caKeyPem: string): Promise<{ cert: x509.X509Certificate; key: CryptoKey }> {
  let cert: x509.X509Certificate;
  let key: CryptoKey;
  try {
    cert = new x509.X509Certificate(certPem);
    const der = createPrivateKey(caKeyPem).export({ type: 'pkcs8', format: 'der' });
    key = await webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, false, ['sign']);
  } catch (error) {
    throw new WireError('INVALID_INPUT', `the CA certificate or key cannot be read: ${(error as Error).message}`, {}, error);
  }
  const basic = cert.getExtension(x509.BasicConstraintsExtension);
  if (!basic?.ca) throw new WireError('INVALID_INPUT', `${cert.subject} is not a CA certificate`);
  return { cert, key };
}

/** A leaf certificate signed by `ca`, with a key of its own. */
export async function issueLeaf(ca: { cert: x509.X509Certificate; key: CryptoKey }, request: LeafRequest): Promise<IssuedPair> {
  for (const ip of request.ips) if (isIP(ip) === 0) throw new WireError('INVALID_INPUT', `--ip: '${ip}' is not an IP address`, { flag: '--ip' });
  for (const dns of request.dns) {
    if (!/^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(dns)) {
      throw new WireError('INVALID_INPUT', `--dns: '${dns}' is not a DNS name`, { flag: '--dns' });
    }
  }
  const keys = await newKeys();
  const names: x509.JsonGeneralName[] = [
    ...(request.kind === 'node' ? [{ type: 'url' as const, value: nodeIdUri(request.name) }] : []),
    ...request.dns.map((value) => ({ type: 'dns' as const, value })),
    ...request.ips.map((value) => ({ type: 'ip' as const, value })),
  ];
  const usages = request.kind === 'node' ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth] : [x509.ExtendedKeyUsage.clientAuth];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${dnValue(request.name)}`,
    issuer: ca.cert.subject,
    ...validity(request.days),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: ca.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(usages),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  return { certPem: pemText(cert), keyPem: keyPem(keys.privateKey) };
}
