/**
 * Raft's TCP transport. Each node listens once; to talk to a peer it opens one outbound connection
 * (PeerLink) and only sends on it, so every connection carries one direction and needs no request
 * matching. The first frame on a connection is a handshake naming the sender (node id, cluster id,
 * advertised address); a connection from another cluster, one that does not start with a valid
 * handshake, or one that sends an oversized frame, is closed, while a frame whose payload does not decode
 * is dropped and counted (its length prefix kept the stream in step). Passing `node:tls` options enables mutual TLS: both sides must present a
 * certificate from the configured CA naming their node id (`wire-node:<id>`, see peer-identity.ts), so a
 * peer cannot claim another node's id.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { NodeId } from '../core/types.js';
import type { Transport } from '../ports.js';
import { MAX_ADDRESS_LENGTH, MAX_ID_LENGTH } from '../message-validation.js';
import { FrameDecoder, UNDECODABLE, encodeFrame } from './frame.js';
import { peerIdentityError } from './peer-identity.js';
import { PeerLink, type LinkStats } from './peer-link.js';

/** The protocol named in a Raft connection's handshake; a listener shared with other protocols routes on it. */
export const RAFT_PROTOCOL = 'wire-raft/1';

/** Options of a transport that does not listen itself (`TcpTransport.attach`): its owner hands it connections. */
export type AttachedTransportOptions = Omit<TcpTransportOptions, 'host' | 'port' | 'advertise'> & {
  /** The address peers use to reach this node (the shared listener's). */
  advertise: string;
};

export interface TcpTransportOptions {
  nodeId: NodeId;
  /** Every node of a cluster uses the same id; connections from other clusters are refused. */
  clusterId: string;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on (default 0: any free port, see `address`). */
  port?: number;
  /** Address peers should use to reach this node (default: the bound host:port). */
  advertise?: string;
  /**
   * Enables mutual TLS: `server` for accepted connections, `client` for outbound ones, each with `ca`,
   * `cert` and `key`. Client certificates are always required and verified, and each side's certificate
   * must carry the URI subject alternative name `wire-node:<its node id>`.
   */
  tls?: { server: tls.TlsOptions; client: tls.ConnectionOptions };
  /** Largest frame sent or accepted, in bytes (default 16 MiB). */
  maxFrameBytes?: number;
  /** Per-peer send queue bounds (defaults 4096 frames, 64 MiB). */
  maxQueuedFrames?: number;
  maxQueuedBytes?: number;
  /** Reconnect backoff: initial and maximum delay (defaults 50 ms, 2 s). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  connectTimeoutMs?: number;
  /** Uniform [0, 1) source for backoff jitter (default Math.random). */
  random?: () => number;
  /** Connection-level problems (refused connections, bad peers). Default: ignored. */
  onError?: (err: Error, peer: NodeId | null) => void;
}

export interface TransportStats {
  /** Frames handed to the message handler. */
  receivedFrames: number;
  /** Frames dropped because their payload was not valid msgpack (the connection stays open). */
  undecodableFrames: number;
  rejectedConnections: number;
  peers: Record<NodeId, LinkStats>;
}

interface Handshake {
  protocol: string;
  id: NodeId;
  cluster: string;
  address: string;
}

function isHandshake(v: unknown): v is Handshake {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  const bounded = (v: unknown, max: number): boolean => typeof v === 'string' && v.length > 0 && v.length <= max;
  return o.protocol === RAFT_PROTOCOL && bounded(o.id, MAX_ID_LENGTH) && bounded(o.cluster, MAX_ID_LENGTH) && bounded(o.address, MAX_ADDRESS_LENGTH);
}

export class TcpTransport<M = unknown> implements Transport<M> {
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly inbound = new Set<net.Socket>();
  private readonly learned = new Map<NodeId, string>();
  private handler: ((from: NodeId, message: M) => void) | undefined;
  private readonly handshake: Buffer;
  private closed = false;
  private receivedFrames = 0;
  private undecodableFrames = 0;
  private rejectedConnections = 0;
  private readonly maxFrameBytes: number;
  private readonly onError: (err: Error, peer: NodeId | null) => void;
  private tls: TcpTransportOptions['tls'];

  private constructor(
    /** Undefined when attached to a listener another module owns. */
    private readonly server: net.Server | undefined,
    private readonly options: TcpTransportOptions,
    /** The address peers use to reach this node. */
    readonly address: string,
  ) {
    this.maxFrameBytes = options.maxFrameBytes ?? 16 * 1024 * 1024;
    this.onError = options.onError ?? (() => undefined);
    this.tls = options.tls;
    this.handshake = encodeFrame({ protocol: RAFT_PROTOCOL, id: options.nodeId, cluster: options.clusterId, address } satisfies Handshake);
    server?.on(options.tls ? 'secureConnection' : 'connection', (socket: net.Socket) => this.accept(socket));
    // TLS failures (bad client certificate, plain TCP client) never reach 'secureConnection'.
    server?.on('tlsClientError', (err: Error) => {
      this.rejectedConnections++;
      this.onError(err, null);
    });
  }

  /**
   * A transport without a listener of its own, for a process whose one port also serves other protocols:
   * the owner of the listener reads each connection's first frame and hands Raft's (`RAFT_PROTOCOL`) to
   * `acceptSocket`. With `tls`, the owner's listener must be a TLS server requiring client certificates.
   */
  static attach<M = unknown>(options: AttachedTransportOptions): TcpTransport<M> {
    return new TcpTransport<M>(undefined, options, options.advertise);
  }

  /**
   * Takes over an accepted connection whose first bytes, `head` (the handshake frame at least), were
   * already read by the listener's owner; the socket must be paused or have no other 'data' listener.
   */
  acceptSocket(socket: net.Socket, head: Buffer): void {
    this.accept(socket, head);
  }

  /** Starts listening; resolves once bound. */
  static async listen<M = unknown>(options: TcpTransportOptions): Promise<TcpTransport<M>> {
    // A peer's id is tied to its certificate, so an unauthenticated client is never allowed.
    const server = options.tls ? tls.createServer({ ...options.tls.server, requestCert: true, rejectUnauthorized: true }) : net.createServer();
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const bound = server.address() as net.AddressInfo;
    const address = options.advertise ?? (host.includes(':') ? `[${host}]:${bound.port}` : `${host}:${bound.port}`);
    return new TcpTransport<M>(server, options, address);
  }

  send(to: NodeId, address: string, message: M): void {
    if (this.closed) return;
    const frame = encodeFrame(message);
    if (frame.length - 4 > this.maxFrameBytes) {
      this.onError(new Error(`dropped a ${frame.length} byte frame to ${to}: over the ${this.maxFrameBytes} byte limit`), to);
      return;
    }
    let link = this.links.get(to);
    if (!link) {
      const started = this.tls;
      link = new PeerLink(address, {
        handshake: this.handshake,
        tls: started && (() => this.clientTls((this.tls ?? started).client, to)),
        maxQueuedFrames: this.options.maxQueuedFrames ?? 4096,
        maxQueuedBytes: this.options.maxQueuedBytes ?? 64 * 1024 * 1024,
        backoffInitialMs: this.options.backoffInitialMs ?? 50,
        backoffMaxMs: this.options.backoffMaxMs ?? 2000,
        connectTimeoutMs: this.options.connectTimeoutMs ?? 2000,
        random: this.options.random ?? Math.random,
        onError: (err) => this.onError(err, to),
      });
      this.links.set(to, link);
    }
    link.send(frame, address);
  }

  /** Writes every link's queued frames now: one write per peer for all the frames of a Ready. */
  flush(): void {
    for (const link of this.links.values()) link.flush();
  }

  onMessage(handler: (from: NodeId, message: M) => void): void {
    this.handler = handler;
  }

  /** The address a peer announced in its handshake (lets a node answer peers it has no address for). */
  addressOf(id: NodeId): string | undefined {
    return this.learned.get(id);
  }

  stats(): TransportStats {
    const peers: Record<NodeId, LinkStats> = {};
    for (const [id, link] of this.links) peers[id] = { ...link.stats };
    return { receivedFrames: this.receivedFrames, undecodableFrames: this.undecodableFrames, rejectedConnections: this.rejectedConnections, peers };
  }

  /**
   * New certificates (a rotation): connections made from now on use them, in both directions; open ones go on
   * with the certificates they were made with. A transport started without TLS cannot start using it.
   */
  reloadTls(options: NonNullable<TcpTransportOptions['tls']>): void {
    if (!this.tls) throw new Error('this transport was started without TLS');
    this.tls = options;
    if (this.server instanceof tls.Server) this.server.setSecureContext(options.server);
  }

  /** Stops listening, closes every connection and timer; queued frames are dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const link of this.links.values()) link.close();
    this.links.clear();
    for (const socket of this.inbound) socket.destroy();
    this.inbound.clear();
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Outbound: the server must be the node we meant to reach, as well as hold a certificate for its host. */
  private clientTls(client: tls.ConnectionOptions, to: NodeId): tls.ConnectionOptions {
    const checkHost = client.checkServerIdentity ?? tls.checkServerIdentity;
    return { ...client, checkServerIdentity: (host, cert) => checkHost(host, cert) ?? peerIdentityError(cert, to) };
  }

  private accept(socket: net.Socket, head?: Buffer): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.inbound.add(socket);
    socket.setNoDelay(true);
    const decoder = new FrameDecoder(this.maxFrameBytes);
    let peer: Handshake | undefined;
    const reject = (err: Error): void => {
      this.rejectedConnections++;
      this.onError(err, peer?.id ?? null);
      socket.destroy();
    };
    const onData = (chunk: Buffer): void => {
      let frames: unknown[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        reject(err as Error);
        return;
      }
      for (const frame of frames) {
        if (frame === UNDECODABLE) {
          if (!peer) return reject(new Error('connection did not start with a valid handshake'));
          this.undecodableFrames++;
          this.onError(new Error('dropped a frame that is not valid msgpack'), peer.id);
          continue;
        }
        if (!peer) {
          if (!isHandshake(frame)) return reject(new Error('connection did not start with a valid handshake'));
          if (frame.cluster !== this.options.clusterId) return reject(new Error(`peer ${frame.id} belongs to cluster "${frame.cluster}"`));
          if (socket instanceof tls.TLSSocket) {
            const wrongId = peerIdentityError(socket.getPeerCertificate(), frame.id);
            if (wrongId) return reject(wrongId);
          }
          peer = frame;
          this.learned.set(frame.id, frame.address);
          continue;
        }
        this.receivedFrames++;
        try {
          this.handler?.(peer.id, frame as M);
        } catch (err) {
          // A handler bug must not take the socket's event handler (and the process) down with it.
          this.onError(err as Error, peer.id);
        }
        if (socket.destroyed) return;
      }
    };
    socket.on('error', (err) => this.onError(err, peer?.id ?? null));
    socket.on('close', () => this.inbound.delete(socket));
    if (head && head.length > 0) onData(head);
    if (!socket.destroyed) {
      socket.on('data', onData);
      socket.resume();
    }
  }
}
