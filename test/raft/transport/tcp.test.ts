import net from 'node:net';
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
  const start = async (id: string, extra: Partial<TcpTransportOptions> = {}): Promise<{ t: TcpTransport<Msg>; got: Array<[string, Msg]> }> => {
    const t = await TcpTransport.listen<Msg>({ nodeId: id, clusterId: 'c1', backoffInitialMs: 10, backoffMaxMs: 100, ...extra });
    open.push(t);
    const got: Array<[string, Msg]> = [];
    t.onMessage((from, m) => got.push([from, m]));
    return { t, got };
  };

  afterEach(async () => {
    for (const t of open.splice(0)) await t.close();
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

  it('flush() writes the frames queued so far at once, in one socket.write per peer', async () => {
    const a = await start('a');
    const b = await start('b');
    a.t.send('b', b.t.address, { n: 0 });
    await waitFor('the connection', () => b.got.length === 1);
    const before = a.t.stats().peers.b!;
    a.t.send('b', b.t.address, { n: 1 });
    a.t.send('b', b.t.address, { n: 2 });
    a.t.flush();
    // Written before this turn ends, not at its end.
    expect(a.t.stats().peers.b).toMatchObject({ sentFrames: before.sentFrames + 2, writes: before.writes + 1 });
    await waitFor('both frames', () => b.got.length === 3);
    expect(b.got.map(([, m]) => m.n)).toEqual([0, 1, 2]);
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

  it('drops a frame whose payload is not msgpack and keeps decoding the frames after it', async () => {
    const b = await start('b');
    const socket = net.connect(Number(b.t.address.split(':')[1]), '127.0.0.1');
    socket.on('error', () => undefined);
    const garbage = Buffer.from([0, 0, 0, 2, 0xc1, 0xc1]); // 0xc1 is never used by msgpack
    socket.write(Buffer.concat([encodeFrame({ protocol: 'wire-raft/1', id: 'x', cluster: 'c1', address: '127.0.0.1:1' }), encodeFrame({ n: 1 }), garbage, encodeFrame({ n: 2 })]));
    await waitFor('both valid frames', () => b.got.length === 2);
    expect(b.got.map(([, m]) => m.n)).toEqual([1, 2]);
    expect(b.t.stats()).toMatchObject({ receivedFrames: 2, undecodableFrames: 1, rejectedConnections: 0 });
    socket.destroy();
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
});
