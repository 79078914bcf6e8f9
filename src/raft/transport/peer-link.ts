/**
 * The outbound connection to one peer: connects lazily, sends the handshake first, batches every frame
 * queued in the same tick (or before an explicit `flush`) into one `socket.write`, reconnects with
 * exponential backoff, and drops frames when its bounded queue is full (Raft retransmits what matters).
 */
import net from 'node:net';
import tls from 'node:tls';

export interface PeerLinkOptions {
  handshake: Buffer;
  /** The TLS options of the next connection (read at each connect, so reloaded certificates apply). */
  tls?: () => tls.ConnectionOptions;
  maxQueuedFrames: number;
  maxQueuedBytes: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  connectTimeoutMs: number;
  random: () => number;
  onError: (err: Error) => void;
}

export interface LinkStats {
  sentFrames: number;
  /** socket.write calls for those frames: fewer than frames when batching works. */
  writes: number;
  droppedFrames: number;
  connects: number;
}

export function parseAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const port = Number(address.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad address "${address}" (want host:port)`);
  const host = address.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

export class PeerLink {
  private socket: net.Socket | undefined;
  private connected = false;
  /** Set while the socket's buffer is full: wait for 'drain' before writing more. */
  private blocked = false;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private backoffMs: number;
  private closed = false;
  readonly stats: LinkStats = { sentFrames: 0, writes: 0, droppedFrames: 0, connects: 0 };

  constructor(
    private address: string,
    private readonly options: PeerLinkOptions,
  ) {
    this.backoffMs = options.backoffInitialMs;
  }

  /** Queues a frame; drops it when the queue is full or the link is closed. */
  send(frame: Buffer, address: string): void {
    if (this.closed) return;
    if (address !== this.address) this.address = address; // used from the next (re)connect on
    if (this.queue.length >= this.options.maxQueuedFrames || this.queuedBytes + frame.length > this.options.maxQueuedBytes) {
      this.stats.droppedFrames++;
      return;
    }
    this.queue.push(frame);
    this.queuedBytes += frame.length;
    if (!this.socket && !this.retryTimer) this.connect();
    else this.scheduleFlush();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.socket?.destroy();
    this.socket = undefined;
    this.queue = [];
    this.queuedBytes = 0;
  }

  private connect(): void {
    let target: { host: string; port: number };
    try {
      target = parseAddress(this.address);
    } catch (err) {
      this.options.onError(err as Error);
      this.scheduleRetry();
      return;
    }
    const socket = this.options.tls
      ? tls.connect({ ...this.options.tls(), host: target.host, port: target.port })
      : net.connect({ host: target.host, port: target.port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setTimeout(this.options.connectTimeoutMs, () => socket.destroy(new Error(`connect to ${this.address} timed out`)));
    socket.once(this.options.tls ? 'secureConnect' : 'connect', () => {
      socket.setTimeout(0);
      socket.setKeepAlive(true, 1000);
      this.connected = true;
      this.blocked = false;
      this.backoffMs = this.options.backoffInitialMs;
      this.stats.connects++;
      socket.write(this.options.handshake);
      this.flush();
    });
    socket.on('drain', () => {
      this.blocked = false;
      this.flush();
    });
    // The peer never sends on this connection; reading keeps the socket flowing so 'end' is seen.
    socket.on('data', () => undefined);
    socket.on('error', (err) => this.options.onError(err));
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.connected = false;
      if (!this.closed) this.scheduleRetry();
    });
  }

  private scheduleRetry(): void {
    // Jitter keeps a cluster's nodes from reconnecting in lockstep.
    const delay = Math.round(this.backoffMs * (0.5 + this.options.random() / 2));
    this.backoffMs = Math.min(this.options.backoffMaxMs, this.backoffMs * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.closed) this.connect();
    }, delay);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || !this.connected) return;
    this.flushScheduled = true;
    process.nextTick(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  /** Writes the queued frames in one `socket.write`, when connected and not held back by a full socket. */
  flush(): void {
    const socket = this.socket;
    if (!socket || !this.connected || this.blocked || this.queue.length === 0) return;
    const frames = this.queue;
    const bytes = this.queuedBytes;
    this.queue = [];
    this.queuedBytes = 0;
    this.stats.sentFrames += frames.length;
    this.stats.writes++;
    const ok = socket.write(frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames, bytes));
    if (!ok) this.blocked = true;
  }
}
