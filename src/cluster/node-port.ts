/**
 * The node port: one TCP (or mutual TLS) listener for all node-to-node traffic. Each connection's first frame
 * names its protocol: `wire-raft/1` (the handshake of Raft's transport) goes to the attached `TcpTransport`,
 * `wire-rpc/1` to the cluster RPC (`rpc.ts`). Raft connections that arrive before this node has started Raft
 * (founders start it a moment apart; a joining node between discovery and its join) are held, unread, until it
 * does: closing them would lose the first founder's first campaign and send the peer's transport into its
 * reconnect backoff, which delayed the first election by up to a second. At most `MAX_EARLY_RAFT`, each for at
 * most `EARLY_RAFT_HOLD_MS`; past that they are closed and the peer's transport retries.
 */
import net from 'node:net';
import tls from 'node:tls';
import { WireError } from '../core/errors.js';
import { RAFT_PROTOCOL } from '../raft/transport/tcp.js';
import { FrameDecoder } from '../raft/transport/frame.js';
import { certificateNodeIds } from '../raft/transport/peer-identity.js';
import { RPC_PROTOCOL, serveRpc, type RpcHandler } from './rpc.js';

/** The first frame is a small handshake; anything bigger is not a Wire node. */
const MAX_FIRST_FRAME_BYTES = 4096;
/** A connection that does not name its protocol in time is closed. */
const FIRST_FRAME_TIMEOUT_MS = 5000;
/** Raft connections held while Raft has not started here: one or two per peer (each peer links once to each). */
const MAX_EARLY_RAFT = 64;
const EARLY_RAFT_HOLD_MS = 5000;

/** What takes Raft's connections (`TcpTransport.attach`). */
export interface RaftAcceptor {
  acceptSocket(socket: net.Socket, head: Buffer): void;
}

export interface NodePortOptions {
  readonly host: string;
  readonly port: number;
  /** Mutual TLS for both protocols: client certificates are required and verified. */
  readonly tls?: tls.TlsOptions;
  readonly onError: (err: Error) => void;
}

export class NodePort {
  private raft: RaftAcceptor | undefined;
  private rpc: RpcHandler | undefined;
  private readonly sockets = new Set<net.Socket>();
  /** Raft connections waiting for `attachRaft`: what was read of each so far, and the timer that closes it. */
  private readonly earlyRaft = new Map<net.Socket, { readonly head: Buffer; readonly timer: NodeJS.Timeout }>();

  private constructor(
    private readonly server: net.Server,
    /** host:port as bound (port 0 resolved). */
    readonly boundAddress: string,
    private readonly onError: (err: Error) => void,
  ) {}

  static async listen(options: NodePortOptions): Promise<NodePort> {
    const server = options.tls ? tls.createServer({ ...options.tls, requestCert: true, rejectUnauthorized: true }) : net.createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, options.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      throw new WireError('UNAVAILABLE', `cannot listen on the node port ${options.host}:${options.port}: ${(error as Error).message}`, {}, error);
    }
    const bound = server.address() as net.AddressInfo;
    const host = options.host.includes(':') ? `[${options.host}]` : options.host;
    const port = new NodePort(server, `${host}:${bound.port}`, options.onError);
    server.on(options.tls ? 'secureConnection' : 'connection', (socket: net.Socket) => port.accept(socket));
    server.on('tlsClientError', (err: Error) => options.onError(err));
    return port;
  }

  /** New certificates for connections accepted from now on; open ones keep theirs. */
  reloadTls(options: tls.TlsOptions): void {
    if (!(this.server instanceof tls.Server)) throw new WireError('INVALID_INPUT', 'the node port was started without TLS: restart the node to turn it on');
    this.server.setSecureContext(options);
  }

  /** From now on, Raft connections go to `transport`. */
  attachRaft(transport: RaftAcceptor): void {
    this.raft = transport;
    for (const [socket, { head, timer }] of this.earlyRaft) {
      clearTimeout(timer);
      this.earlyRaft.delete(socket);
      this.sockets.delete(socket);
      transport.acceptSocket(socket, head);
    }
  }

  serveRpc(handler: RpcHandler): void {
    this.rpc = handler;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    // The CA may sign other certificates too (HTTP clients'): only a node's certificate opens the node port.
    if (socket instanceof tls.TLSSocket && certificateNodeIds(socket.getPeerCertificate()).length === 0) {
      this.onError(new Error('a client certificate that names no Wire node (wire-node:<id>) was refused on the node port'));
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', (err) => this.onError(err));
    socket.setNoDelay(true);
    const decoder = new FrameDecoder(MAX_FIRST_FRAME_BYTES);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), FIRST_FRAME_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      let frames: unknown[];
      try {
        // Only the first frame is looked at; the protocol's own reader decodes everything again.
        frames = decoder.push(chunk);
      } catch (err) {
        clearTimeout(timer);
        this.onError(err as Error);
        socket.destroy();
        return;
      }
      if (frames.length === 0) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.pause();
      this.route(socket, frames[0], Buffer.concat(chunks));
    };
    socket.on('data', onData);
  }

  private route(socket: net.Socket, first: unknown, bytes: Buffer): void {
    const protocol = (first as { protocol?: unknown } | null)?.protocol;
    if (protocol === RAFT_PROTOCOL && this.raft) {
      // Handed over whole: the transport reads the handshake itself (cluster id, peer identity).
      this.sockets.delete(socket);
      this.raft.acceptSocket(socket, bytes);
      return;
    }
    if (protocol === RAFT_PROTOCOL && this.earlyRaft.size < MAX_EARLY_RAFT) {
      this.holdEarlyRaft(socket, bytes);
      return;
    }
    if (protocol === RPC_PROTOCOL && this.rpc) {
      const firstLength = bytes.readUInt32BE(0);
      serveRpc(socket, bytes.subarray(4 + firstLength), this.rpc, this.onError);
      return;
    }
    if (protocol !== RAFT_PROTOCOL) this.onError(new Error(`a connection to the node port named no known protocol (${JSON.stringify(protocol) ?? 'none'})`));
    socket.destroy();
  }

  private holdEarlyRaft(socket: net.Socket, head: Buffer): void {
    const timer = setTimeout(() => socket.destroy(), EARLY_RAFT_HOLD_MS);
    this.earlyRaft.set(socket, { head, timer });
    socket.once('close', () => {
      clearTimeout(timer);
      this.earlyRaft.delete(socket);
    });
  }
}
