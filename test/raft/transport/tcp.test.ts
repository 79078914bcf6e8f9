import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../../src/raft/transport/frame.js';
import { TcpTransport, type TcpTransportOptions } from '../../../src/raft/transport/tcp.js';
import { waitFor } from './wait.js';

interface Msg {
  n: number;
  data?: Uint8Array;
}

describe('TCP transport', () => {
  const open: TcpTransport<Msg>[] = [];
  const dirs: string[] = [];
  const start = async (id: string, extra: Partial<TcpTransportOptions> = {}): Promise<{ t: TcpTransport<Msg>; got: Array<[string, Msg]> }> => {
    const t = await TcpTransport.listen<Msg>({ nodeId: id, clusterId: 'c1', backoffInitialMs: 10, backoffMaxMs: 100, ...extra });
    open.push(t);
    const got: Array<[string, Msg]> = [];
    t.onMessage((from, m) => got.push([from, m]));
    return { t, got };
  };

  afterEach(async () => {
    for (const t of open.splice(0)) await t.close();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('delivers frames in order between two nodes, keeping binary fields', async () => {
    const a = await start('a');
    const b = await start('b');
    const payload = new Uint8Array([0, 1, 2, 250, 255]);
    for (let n = 0; n < 500; n++) a.t.send('b', b.t.address, { n, data: payload });
    b.t.send('a', a.t.address, { n: -1 });
    await waitFor('500 frames', () => b.got.length === 500);
    expect(b.got.map(([, m]) => m.n)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(b.got.every(([from]) => from === 'a')).toBe(true);
    const data = b.got[0]![1].data!;
    expect(data).toBeInstanceOf(Uint8Array);
    expect(Array.from(data)).toEqual([0, 1, 2, 250, 255]);
    await waitFor('reply', () => a.got.length === 1);
    expect(a.got[0]).toEqual(['b', { n: -1 }]);
    expect(b.t.addressOf('a')).toBe(a.t.address);
    // Frames queued in one tick go out in one socket.write.
    expect(a.t.stats().peers.b).toMatchObject({ sentFrames: 500, writes: 1, droppedFrames: 0, connects: 1 });
  });

  it('reconnects after the peer restarts on the same port', async () => {
    const a = await start('a');
    const b1 = await start('b');
    const address = b1.t.address;
    a.t.send('b', address, { n: 1 });
    await waitFor('first frame', () => b1.got.length === 1);
    await b1.t.close();
    const port = Number(address.split(':')[1]);
    const b2 = await start('b', { port });
    let n = 2;
    await waitFor('a frame after restart', () => {
      a.t.send('b', address, { n: n++ });
      return b2.got.length > 0;
    }, 10_000, 20);
    expect(a.t.stats().peers.b!.connects).toBeGreaterThanOrEqual(2);
  });

  it('drops frames beyond the per-peer queue bound while the peer is unreachable', async () => {
    const a = await start('a', { maxQueuedFrames: 10 });
    const probe = net.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    for (let n = 0; n < 25; n++) a.t.send('ghost', `127.0.0.1:${port}`, { n });
    expect(a.t.stats().peers.ghost!.droppedFrames).toBe(15);
  });

  it('closes a connection that sends an oversized frame', async () => {
    const errors: string[] = [];
    const b = await start('b', { maxFrameBytes: 1024, onError: (e) => errors.push(e.message) });
    const socket = net.connect(Number(b.t.address.split(':')[1]), '127.0.0.1');
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.on('error', () => undefined);
    socket.write(encodeFrame({ protocol: 'wire-raft/1', id: 'x', cluster: 'c1', address: '127.0.0.1:1' }));
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1_000_000);
    socket.write(header);
    await closed;
    expect(b.t.stats().rejectedConnections).toBe(1);
    expect(errors.some((m) => m.includes('exceeds the limit'))).toBe(true);
    expect(b.got).toEqual([]);
  });

  it('refuses to send a frame over the limit and keeps sending smaller ones', async () => {
    const errors: string[] = [];
    const a = await start('a', { maxFrameBytes: 1024, onError: (e) => errors.push(e.message) });
    const b = await start('b', { maxFrameBytes: 1024 });
    a.t.send('b', b.t.address, { n: 1, data: new Uint8Array(5000) });
    a.t.send('b', b.t.address, { n: 2 });
    await waitFor('small frame', () => b.got.length === 1);
    expect(b.got[0]![1].n).toBe(2);
    expect(errors.some((m) => m.includes('over the 1024 byte limit'))).toBe(true);
  });

  it('rejects a peer from another cluster', async () => {
    const b = await start('b');
    const other = await TcpTransport.listen<Msg>({ nodeId: 'z', clusterId: 'other', backoffInitialMs: 10, backoffMaxMs: 50 });
    open.push(other);
    other.send('b', b.t.address, { n: 1 });
    await waitFor('rejection', () => b.t.stats().rejectedConnections >= 1);
    expect(b.got).toEqual([]);
  });

  it('works over mutual TLS and refuses a client without a certificate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wire-raft-tls-'));
    dirs.push(dir);
    const ssl = (...args: string[]): void => {
      execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    };
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=wire-test-ca');
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'node.key', '-out', 'node.csr', '-subj', '/CN=node');
    await writeFile(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
    ssl('x509', '-req', '-in', 'node.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'node.crt', '-days', '1', '-extfile', 'ext.cnf');
    const [ca, cert, key] = await Promise.all(['ca.crt', 'node.crt', 'node.key'].map((f) => readFile(join(dir, f))));
    const tlsOptions = {
      server: { ca, cert, key, requestCert: true, rejectUnauthorized: true },
      client: { ca, cert, key },
    };
    const a = await start('a', { tls: tlsOptions });
    const b = await start('b', { tls: tlsOptions });
    a.t.send('b', b.t.address, { n: 7, data: new Uint8Array([9]) });
    await waitFor('frame over mTLS', () => b.got.length === 1);
    expect(b.got[0]![1].n).toBe(7);

    const anonymous = tls.connect({ host: '127.0.0.1', port: Number(b.t.address.split(':')[1]), ca });
    anonymous.on('error', () => undefined);
    await new Promise<void>((r) => anonymous.on('close', () => r()));
    await waitFor('anonymous client rejected', () => b.t.stats().rejectedConnections >= 1);
    expect(b.got).toHaveLength(1);
  });
});
