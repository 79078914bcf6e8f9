/**
 * Certificates for TLS tests, made in-process with `wire certs`' own generator (src/security/certificates.ts):
 * CAs by name, node and client certificates signed by one of them, written to a temp dir when a test needs files.
 */
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { createCa, issueLeaf, loadCa, type IssuedPair } from '../../src/security/certificates.js';

export interface Pem {
  readonly cert: string;
  readonly key: string;
}

export class TestPki {
  /** Promises, so that tests asking for the same CA at once get one CA. */
  private readonly cas = new Map<string, Promise<IssuedPair>>();
  /** One temp dir, made once even when files are written side by side. */
  private dir: Promise<string> | undefined;
  /** Files written so far: each is written under a name of its own before it is renamed into place. */
  private written = 0;

  async ca(name: string): Promise<Pem> {
    let ca = this.cas.get(name);
    if (!ca) {
      ca = createCa(name, 2);
      this.cas.set(name, ca);
    }
    const pair = await ca;
    return { cert: pair.certPem, key: pair.keyPem };
  }

  /** A node certificate (`wire-node:<id>`, localhost and 127.0.0.1) signed by CA `caName`. */
  async node(id: string, caName: string): Promise<Pem> {
    return this.leaf('node', id, caName);
  }

  async client(name: string, caName: string): Promise<Pem> {
    return this.leaf('client', name, caName);
  }

  /**
   * Writes `text` to a file in the temp dir and returns its path. Written aside and renamed into place: callers that
   * write the same file at once (three nodes' `trust-cluster.crt`) never let a reader see it truncated (a CI run read
   * one empty: "not a PEM certificate").
   */
  async file(name: string, text: string): Promise<string> {
    this.dir ??= mkdtemp(join(tmpdir(), 'wire-tls-test-'));
    const path = join(await this.dir, name);
    const aside = `${path}.${process.pid}.${this.written++}.tmp`;
    await writeFile(aside, text, { mode: 0o600 });
    await rename(aside, path);
    return path;
  }

  async dispose(): Promise<void> {
    if (this.dir) await rm(await this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  private async leaf(kind: 'node' | 'client', name: string, caName: string): Promise<Pem> {
    const ca = await this.ca(caName);
    const pair = await issueLeaf(await loadCa(ca.cert, ca.key), { kind, name, dns: ['localhost'], ips: ['127.0.0.1'], days: 2 });
    return { cert: pair.certPem, key: pair.keyPem };
  }
}

export function serialOf(pem: string | Buffer): string {
  return new X509Certificate(pem).serialNumber;
}
