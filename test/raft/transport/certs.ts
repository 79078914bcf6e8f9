/**
 * Test certificates made with the machine's openssl (CI's Debian image has it): CAs, and node
 * certificates signed by one of them naming a node id as `URI:wire-node:<id>` and 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NodeCert {
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface TestPki {
  /** A CA certificate by name. */
  ca(name: string): Buffer;
  /** A node certificate signed by CA `caName` whose subject alternative names are `sans` (openssl syntax). */
  node(name: string, caName: string, sans: readonly string[]): Promise<NodeCert>;
  /** Deletes the directory holding the keys. */
  dispose(): Promise<void>;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function createTestPki(caNames: readonly string[]): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'wire-raft-pki-'));
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  };
  const cas = new Map<string, Buffer>();
  for (const name of caNames) {
    ssl('req', '-x509', ...EC, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`);
    cas.set(name, await readFile(join(dir, `${name}.crt`)));
  }
  return {
    ca: (name) => cas.get(name)!,
    async node(name, caName, sans) {
      ssl('req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      await writeFile(join(dir, `${name}.ext`), `subjectAltName=${sans.join(',')}\nextendedKeyUsage=serverAuth,clientAuth\n`);
      ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.crt`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
      const [cert, key] = await Promise.all([readFile(join(dir, `${name}.crt`)), readFile(join(dir, `${name}.key`))]);
      return { cert, key };
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
