// The node port holds Raft connections that arrive before this node has started Raft, and hands them, with what
// their peer sent meanwhile, to Raft's transport once it starts (src/cluster/node-port.ts).
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { NodePort } from '../../../src/cluster/node-port.js';
import { encodeFrame } from '../../../src/raft/transport/frame.js';
import { RAFT_PROTOCOL } from '../../../src/raft/transport/tcp.js';

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  // Peers first: a server closes once its connections have.
  for (const o of open.splice(0).reverse()) await o.close();
});

async function listen(): Promise<{ port: NodePort; errors: Error[] }> {
  const errors: Error[] = [];
  const port = await NodePort.listen({ host: '127.0.0.1', port: 0, onError: (e) => errors.push(e) });
  open.push(port);
  return { port, errors };
}

async function connect(address: string): Promise<net.Socket> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const socket = net.connect({ host, port });
  open.push({ close: () => socket.destroy() });
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return socket;
}

/** An acceptor that reads everything sent on each socket it is given, past the head it was handed. */
function recordingAcceptor() {
  const received: Buffer[] = [];
  const accepted: Array<{ socket: net.Socket; head: Buffer }> = [];
  return {
    received,
    accepted,
    acceptSocket(socket: net.Socket, head: Buffer) {
      accepted.push({ socket, head });
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.resume();
    },
  };
}

const until = async (what: () => boolean) => {
  for (let i = 0; i < 500 && !what(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(what()).toBe(true);
};

describe('the node port before Raft starts', () => {
  it('holds a Raft connection open and hands it, with everything its peer sent, to the transport once Raft attaches', async () => {
    const { port, errors } = await listen();
    const peer = await connect(port.boundAddress);
    const handshake = encodeFrame({ protocol: RAFT_PROTOCOL, id: 'n1', cluster: 'c', address: '127.0.0.1:1' });
    const vote = encodeFrame({ type: 'pre-vote', term: 2 });
    peer.write(handshake);
    await new Promise((r) => setTimeout(r, 100));
    peer.write(vote);
    await new Promise((r) => setTimeout(r, 100));
    expect(peer.destroyed || peer.readableEnded).toBe(false);

    const acceptor = recordingAcceptor();
    port.attachRaft(acceptor);
    expect(acceptor.accepted).toHaveLength(1);
    const all = () => Buffer.concat([acceptor.accepted[0]!.head, ...acceptor.received]);
    await until(() => all().length === handshake.length + vote.length);
    expect(all().equals(Buffer.concat([handshake, vote]))).toBe(true);
    expect(errors).toEqual([]);
  });

  it('closes a held connection whose peer goes away, and hands over only live ones', async () => {
    const { port } = await listen();
    const gone = await connect(port.boundAddress);
    const live = await connect(port.boundAddress);
    const handshake = encodeFrame({ protocol: RAFT_PROTOCOL, id: 'n2', cluster: 'c', address: '127.0.0.1:2' });
    gone.write(handshake);
    live.write(handshake);
    await new Promise((r) => setTimeout(r, 100));
    gone.destroy();
    await new Promise((r) => setTimeout(r, 100));
    const acceptor = recordingAcceptor();
    port.attachRaft(acceptor);
    expect(acceptor.accepted).toHaveLength(1);
  });

  it('closes held connections when the port closes', async () => {
    const { port } = await listen();
    const peer = await connect(port.boundAddress);
    peer.write(encodeFrame({ protocol: RAFT_PROTOCOL, id: 'n3', cluster: 'c', address: '127.0.0.1:3' }));
    await new Promise((r) => setTimeout(r, 100));
    expect(peer.closed).toBe(false);
    const closed = new Promise((resolve) => peer.once('close', resolve));
    peer.resume();
    await port.close();
    await closed;
  });
});
