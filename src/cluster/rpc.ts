/**
 * The cluster RPC between nodes (`wire-rpc/1`), carried on the node port beside Raft (`node-port.ts`): after a
 * first frame `{ protocol }`, the client sends `{ id, method, params }` frames and the server answers each with
 * `{ id, ok: true, result }` or `{ id, ok: false, error: { code, message, details } }`, in any order. Frames
 * are length-prefixed msgpack with a size limit (`raft/transport/frame.ts`); every call has a timeout.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ERROR_CODES, WireError, type ErrorCode } from '../core/errors.js';
import { FrameDecoder, UNDECODABLE, encodeFrame } from '../raft/transport/frame.js';
import { certificateNodeIds } from '../raft/transport/peer-identity.js';
import { answerIdentityError } from './tls-peer.js';

export const RPC_PROTOCOL = 'wire-rpc/1';

/** Control data only: a forwarded command is at most 1 MiB, a status a few KiB. */
export const MAX_RPC_FRAME_BYTES = 4 * 1024 * 1024;

/** Calls in flight on one connection; more are refused at once rather than queued without bound. */
const MAX_IN_FLIGHT = 1024;

/** Who called: the node ids its certificate names under mutual TLS, null on a plaintext node port. */
export interface RpcPeer {
  readonly nodeIds: readonly string[] | null;
}

export type RpcHandler = (method: string, params: unknown, peer: RpcPeer) => Promise<unknown>;

interface RpcRequest {
  readonly id: number;
  readonly method: string;
  readonly params: unknown;
}

function isRequest(v: unknown): v is RpcRequest {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return Number.isSafeInteger(o.id) && typeof o.method === 'string' && o.method.length <= 64;
}

function errorBody(err: unknown): { code: ErrorCode; message: string; details: Record<string, unknown> } {
  if (err instanceof WireError) return { code: err.code, message: err.message, details: { ...err.details } };
  return { code: 'INTERNAL', message: (err as Error).message ?? String(err), details: {} };
}

/** Serves one RPC connection whose first frame (the protocol) was read already; `head` holds any bytes after it. */
export function serveRpc(socket: net.Socket, head: Buffer, handler: RpcHandler, onError: (err: Error) => void): void {
  const peer: RpcPeer = { nodeIds: socket instanceof tls.TLSSocket ? certificateNodeIds(socket.getPeerCertificate()) : null };
  const decoder = new FrameDecoder(MAX_RPC_FRAME_BYTES);
  let inFlight = 0;
  const reply = (frame: unknown): void => {
    if (!socket.destroyed) socket.write(encodeFrame(frame));
  };
  const onData = (chunk: Buffer): void => {
    let frames: unknown[];
    try {
      frames = decoder.push(chunk);
    } catch (err) {
      onError(err as Error);
      socket.destroy();
      return;
    }
    for (const frame of frames) {
      if (frame === UNDECODABLE || !isRequest(frame)) {
        onError(new Error('a cluster RPC peer sent a malformed request; connection closed'));
        socket.destroy();
        return;
      }
      if (inFlight >= MAX_IN_FLIGHT) {
        reply({ id: frame.id, ok: false, error: { code: 'UNAVAILABLE', message: 'too many requests in flight on one connection', details: {} } });
        continue;
      }
      inFlight++;
      handler(frame.method, frame.params, peer).then(
        (result) => reply({ id: frame.id, ok: true, result }),
        (err: unknown) => reply({ id: frame.id, ok: false, error: errorBody(err) }),
      ).finally(() => inFlight--);
    }
  };
  socket.on('error', onError);
  if (head.length > 0) onData(head);
  if (!socket.destroyed) {
    socket.on('data', onData);
    socket.resume();
  }
}

export interface RpcClientOptions {
  /** Mutual TLS for outbound connections (the node port's client options). */
  readonly tls?: tls.ConnectionOptions;
  readonly connectTimeoutMs?: number;
}

interface Pending {
  method: string;
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** One connection to one node's port, opened on first use and again after it breaks. */
class RpcConnection {
  private socket: net.Socket | undefined;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  /** The node ids the server's certificate names, once a TLS connection is up; null on plaintext. */
  private serverIds: readonly string[] | null = null;

  constructor(
    private readonly address: string,
    /** Read at each connect, so reloaded certificates apply to the next connection. */
    private readonly options: () => RpcClientOptions,
  ) {}

  call(method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    if (this.pending.size >= MAX_IN_FLIGHT) return Promise.reject(new WireError('UNAVAILABLE', `too many calls in flight to ${this.address}`));
    const socket = this.socket ?? this.connect();
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new WireError('TIMEOUT', `${method} to ${this.address} timed out after ${timeoutMs} ms`, { peer: this.address, method }));
      }, timeoutMs);
      this.pending.set(id, { method, resolve, reject, timer });
      socket.write(encodeFrame({ id, method, params } satisfies RpcRequest));
    });
  }

  close(): void {
    this.fail(new WireError('UNAVAILABLE', `the connection to ${this.address} was closed`));
    this.socket?.destroy();
    this.socket = undefined;
  }

  private connect(): net.Socket {
    const { host, port } = splitAddress(this.address);
    const options = this.options();
    const socket = options.tls ? tls.connect({ ...options.tls, host, port }) : net.connect({ host, port });
    socket.setNoDelay(true);
    socket.setTimeout(options.connectTimeoutMs ?? 2000, () => {
      if (socket.connecting) socket.destroy(new Error(`connecting to ${this.address} timed out`));
    });
    this.serverIds = null;
    socket.once(options.tls ? 'secureConnect' : 'connect', () => {
      socket.setTimeout(0);
      if (socket instanceof tls.TLSSocket) this.serverIds = certificateNodeIds(socket.getPeerCertificate());
    });
    socket.write(encodeFrame({ protocol: RPC_PROTOCOL }));
    const decoder = new FrameDecoder(MAX_RPC_FRAME_BYTES);
    socket.on('data', (chunk: Buffer) => {
      let frames: unknown[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        socket.destroy(err as Error);
        return;
      }
      for (const frame of frames) this.settle(frame);
    });
    const broken = (err?: Error): void => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.fail(new WireError('UNAVAILABLE', `node ${this.address} is unreachable: ${err?.message ?? 'connection closed'}`, { peer: this.address }, err));
    };
    socket.on('error', broken);
    socket.on('close', () => broken());
    this.socket = socket;
    return socket;
  }

  private settle(frame: unknown): void {
    const f = frame as { id?: unknown; ok?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown; details?: unknown } };
    if (typeof f?.id !== 'number') return;
    const p = this.pending.get(f.id);
    if (!p) return;
    this.pending.delete(f.id);
    clearTimeout(p.timer);
    const wrongNode = f.ok === true ? answerIdentityError(p.method, f.result, this.serverIds, this.address) : undefined;
    if (wrongNode) p.reject(wrongNode);
    else if (f.ok === true) p.resolve(f.result);
    else p.reject(toWireError(f.error, this.address));
  }

  private fail(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}

function toWireError(e: { code?: unknown; message?: unknown; details?: unknown } | undefined, peer: string): WireError {
  const code = (ERROR_CODES as readonly unknown[]).includes(e?.code) ? (e?.code as ErrorCode) : 'INTERNAL';
  const details = typeof e?.details === 'object' && e.details !== null ? (e.details as Record<string, unknown>) : {};
  return new WireError(code, typeof e?.message === 'string' ? e.message : `node ${peer} answered with a malformed error`, details);
}

/** Cluster RPC calls to other nodes by their node-port address, one connection per address. */
export class RpcClient {
  private readonly connections = new Map<string, RpcConnection>();
  private closed = false;

  constructor(private options: RpcClientOptions = {}) {}

  call(address: string, method: string, params: unknown, timeoutMs: number): Promise<unknown> {
    if (this.closed) return Promise.reject(new WireError('UNAVAILABLE', 'the node is stopping'));
    let c = this.connections.get(address);
    if (!c) {
      c = new RpcConnection(address, () => this.options);
      this.connections.set(address, c);
    }
    return c.call(method, params, timeoutMs);
  }

  /** New client certificates for connections opened from now on (open ones keep theirs). */
  reloadTls(client: tls.ConnectionOptions): void {
    this.options = { ...this.options, tls: client };
  }

  close(): void {
    this.closed = true;
    for (const c of this.connections.values()) c.close();
    this.connections.clear();
  }
}

/** `host:port` or `[v6]:port` → its parts; INVALID_INPUT otherwise. */
export function splitAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new WireError('INVALID_INPUT', `'${address}' is not a host:port address`, { address });
  return { host: (m[1] ?? m[2])!, port };
}
