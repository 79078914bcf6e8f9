// A reload reaches outbound connections too: after `reloadTls`, a new connection from the cluster RPC client or
// from Raft's transport presents the new certificate, while a connection opened before keeps working.
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { NodePort } from '../../src/cluster/node-port.js';
import { RpcClient } from '../../src/cluster/rpc.js';
import { TcpTransport } from '../../src/raft/transport/tcp.js';
import { readNodeTls } from '../../src/security/tls-config.js';
import { TestPki, serialOf } from './pki.js';

const pki = new TestPki();
afterAll(() => pki.dispose());

// Written once: two node ports set up side by side each rewrote ca.crt, and one could read it while the other had
// just truncated it ("not a PEM certificate").
let caFile: Promise<string> | undefined;

async function nodeTls(id: string) {
  const pem = await pki.node(id, 'cluster');
  const serial = serialOf(pem.cert);
  caFile ??= pki.ca('cluster').then((ca) => pki.file('ca.crt', ca.cert));
  const files = { cert: await pki.file(`${serial}.crt`, pem.cert), key: await pki.file(`${serial}.key`, pem.key), ca: await caFile };
  return { tls: (await readNodeTls({ minVersion: 'TLSv1.3', node: files }, id))!, serial };
}

/** A mutual TLS node port of node `id`. */
async function nodePort(id: string): Promise<NodePort> {
  return NodePort.listen({ host: '127.0.0.1', port: 0, tls: (await nodeTls(id)).tls.server, onError: () => undefined });
}

describe('certificate rotation, outbound', () => {
  it("the cluster RPC client's new connections present the new certificate; an open one goes on", async () => {
    const [a, b] = await Promise.all([nodePort('a'), nodePort('b')]);
    const seen: string[] = [];
    const record = (port: NodePort) => port.serveRpc(async (_method, _params, peer) => {
      seen.push(peer.nodeIds?.join(',') ?? 'plain');
      return { id: port === a ? 'a' : 'b' };
    });
    record(a);
    record(b);
    const before = await nodeTls('client');
    const after = await nodeTls('client');
    const rpc = new RpcClient({ tls: before.tls.client });
    // A node port hands its handler names, not serials: a TLS server of our own records the serial each connection shows.
    const capture = await new Promise<{ server: tls.Server; port: number; serials: string[] }>((resolve) => {
      const serials: string[] = [];
      void nodeTls('c').then(({ tls: t }) => {
        const server = tls.createServer({ ...t.server }, (s) => {
          serials.push(s.getPeerCertificate().serialNumber);
          s.destroy();
        });
        server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, serials }));
      });
    });
    try {
      expect(await rpc.call(a.boundAddress, 'hello', {}, 5000)).toEqual({ id: 'a' });
      await rpc.call(`127.0.0.1:${capture.port}`, 'hello', {}, 2000).catch(() => undefined);
      rpc.reloadTls(after.tls.client);
      expect(await rpc.call(a.boundAddress, 'hello', {}, 5000)).toEqual({ id: 'a' });
      expect(await rpc.call(b.boundAddress, 'hello', {}, 5000)).toEqual({ id: 'b' });
      // The capture server closed the first connection: this call opens a new one.
      await rpc.call(`127.0.0.1:${capture.port}`, 'hello', {}, 2000).catch(() => undefined);
      expect(capture.serials).toEqual([before.serial, after.serial]);
      expect(seen).toEqual(['client', 'client', 'client']);
    } finally {
      rpc.close();
      capture.server.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("Raft's transport presents the new certificate on its next connection", async () => {
    const before = await nodeTls('a');
    const after = await nodeTls('a');
    const serials: string[] = [];
    const { tls: peer } = await nodeTls('b');
    const server = tls.createServer({ ...peer.server }, (s) => {
      serials.push(s.getPeerCertificate().serialNumber);
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(server.address() as { port: number }).port}`;
    const transport = await TcpTransport.listen({ nodeId: 'a', clusterId: 'x', tls: before.tls, backoffInitialMs: 10, backoffMaxMs: 20 });
    try {
      transport.send('b', address, { hi: 1 });
      for (let i = 0; serials.length < 1 && i < 500; i++) await new Promise((r) => setTimeout(r, 10));
      transport.reloadTls(after.tls);
      // The server closed the first connection: the link reconnects with what the transport holds now.
      for (let i = 0; !serials.includes(after.serial) && i < 500; i++) {
        transport.send('b', address, { hi: 2 });
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(serials[0]).toBe(before.serial);
      expect(serials).toContain(after.serial);
    } finally {
      await transport.close();
      server.close();
    }
  });
});
