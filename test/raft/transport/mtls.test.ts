import { X509Certificate } from 'node:crypto';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TcpTransport } from '../../../src/raft/transport/tcp.js';
import { certificateNodeIds } from '../../../src/raft/transport/peer-identity.js';
import { createTestPki, type NodeCert, type TestPki } from './certs.js';
import { waitFor } from './wait.js';

interface Msg {
  n: number;
}

describe('TCP transport over mutual TLS: a peer is who its certificate names', () => {
  let pki: TestPki;
  const certs: Record<string, NodeCert> = {};
  const open: TcpTransport<Msg>[] = [];

  beforeAll(async () => {
    pki = await createTestPki(['cluster-ca', 'other-ca']);
    certs.a = await pki.node('a', 'cluster-ca', ['URI:wire-node:a', 'IP:127.0.0.1']);
    certs.b = await pki.node('b', 'cluster-ca', ['URI:wire-node:b', 'IP:127.0.0.1']);
    certs.anonymous = await pki.node('anonymous', 'cluster-ca', ['IP:127.0.0.1']);
    certs.foreign = await pki.node('foreign', 'other-ca', ['URI:wire-node:a', 'IP:127.0.0.1']);
  }, 60_000);
  afterAll(async () => {
    await pki.dispose();
  });
  afterEach(async () => {
    for (const t of open.splice(0)) await t.close();
  });

  /** A transport for node `id` presenting certificate `cert`, trusting only the cluster CA. */
  const start = async (id: string, cert: NodeCert, errors: string[] = []): Promise<{ t: TcpTransport<Msg>; got: Array<[string, Msg]> }> => {
    const ca = pki.ca('cluster-ca');
    const t = await TcpTransport.listen<Msg>({
      nodeId: id,
      clusterId: 'c1',
      backoffInitialMs: 10,
      backoffMaxMs: 50,
      // A server configured to be lenient is made strict anyway: the id check needs a client certificate.
      tls: { server: { ca, ...cert, requestCert: false, rejectUnauthorized: false }, client: { ca, ...cert } },
      onError: (e) => errors.push(e.message),
    });
    open.push(t);
    const got: Array<[string, Msg]> = [];
    t.onMessage((from, m) => got.push([from, m]));
    return { t, got };
  };

  it('reads the node ids a certificate names', () => {
    expect(certificateNodeIds(new X509Certificate(certs.a!.cert).toLegacyObject())).toEqual(['a']);
    expect(certificateNodeIds(new X509Certificate(certs.anonymous!.cert).toLegacyObject())).toEqual([]);
    expect(certificateNodeIds({ subjectaltname: 'IP Address:127.0.0.1, URI:wire-node:a, DNS:x' } as tls.PeerCertificate)).toEqual(['a']);
    expect(certificateNodeIds({ subjectaltname: 'URI:"wire-node:a, URI:wire-node:b"' } as tls.PeerCertificate)).toEqual(['a, URI:wire-node:b']);
    expect(certificateNodeIds({ subjectaltname: 'DNS:wire-node:a' } as tls.PeerCertificate)).toEqual([]);
    expect(certificateNodeIds(undefined)).toEqual([]);
  });

  it('delivers frames between nodes whose certificates name them', async () => {
    const a = await start('a', certs.a!);
    const b = await start('b', certs.b!);
    a.t.send('b', b.t.address, { n: 7 });
    await waitFor('frame over mTLS', () => b.got.length === 1);
    expect(b.got).toEqual([['a', { n: 7 }]]);
    b.t.send('a', a.t.address, { n: 8 });
    await waitFor('reply', () => a.got.length === 1);
    expect(a.got).toEqual([['b', { n: 8 }]]);
  });

  it('refuses a handshake declaring another id than the certificate names', async () => {
    const errors: string[] = [];
    const b = await start('b', certs.b!, errors);
    // Holds a's valid certificate but claims to be "b2": nothing it sends may count as b2's.
    const liar = await start('b2', certs.a!);
    liar.t.send('b', b.t.address, { n: 1 });
    await waitFor('rejection', () => b.t.stats().rejectedConnections >= 1);
    expect(errors.some((m) => m.includes('does not name node b2'))).toBe(true);
    expect(b.got).toEqual([]);
    expect(b.t.addressOf('b2')).toBeUndefined();
  });

  it('refuses a certificate without a node id', async () => {
    const b = await start('b', certs.b!);
    const nameless = await start('a', certs.anonymous!);
    nameless.t.send('b', b.t.address, { n: 1 });
    await waitFor('rejection', () => b.t.stats().rejectedConnections >= 1);
    expect(b.got).toEqual([]);
  });

  it('refuses a certificate from another CA, even one naming a cluster node', async () => {
    const b = await start('b', certs.b!);
    const foreign = await start('a', certs.foreign!);
    foreign.t.send('b', b.t.address, { n: 1 });
    await waitFor('rejection', () => b.t.stats().rejectedConnections >= 1);
    expect(b.got).toEqual([]);
  });

  it('refuses a client without a certificate', async () => {
    const b = await start('b', certs.b!);
    const port = Number(b.t.address.split(':')[1]);
    const anonymous = tls.connect({ host: '127.0.0.1', port, ca: pki.ca('cluster-ca') });
    anonymous.on('error', () => undefined);
    await new Promise<void>((r) => anonymous.on('close', () => r()));
    await waitFor('anonymous client rejected', () => b.t.stats().rejectedConnections >= 1);
    expect(b.got).toEqual([]);
  });

  it('does not send to a server whose certificate names another node', async () => {
    const errors: string[] = [];
    const a = await start('a', certs.a!, errors);
    // Listens where a expects b, with a valid certificate that is not b's.
    const impostor = await start('b', certs.anonymous!);
    a.t.send('b', impostor.t.address, { n: 1 });
    await waitFor('client-side refusal', () => errors.some((m) => m.includes('does not name node b')));
    expect(impostor.got).toEqual([]);
  });
});
