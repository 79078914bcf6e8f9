import type { Client, ClientConfig, Connection } from 'pg';
import { WireError } from '../../core/errors.js';

/** What pg's connection does that its types leave out: the replication protocol rides on CopyData messages. */
interface CopyConnection extends Connection {
  sendCopyFromChunk(chunk: Buffer): void;
}

export interface StreamHandlers {
  /** A pgoutput message (the payload of an XLogData message). */
  message(data: Buffer): void;
  /** The server's WAL end while it has nothing to send; `reply` when it asks for a status update now. */
  keepalive(walEnd: bigint, reply: boolean): void;
  /** The stream ended: the connection was lost, the server refused, or `close()` was called. */
  ended(error: unknown): void;
}

/** Microseconds from the Unix epoch to Postgres's (2000-01-01). */
const POSTGRES_EPOCH_MS = 946_684_800_000n;

/**
 * One replication connection (`replication=database`), driven by hand over pg's Client: CREATE_REPLICATION_SLOT,
 * START_REPLICATION, the CopyData messages it streams, and the standby status updates that confirm an LSN.
 */
export class ReplicationConnection {
  private ended = false;

  private constructor(
    private readonly client: Client,
    private readonly connection: CopyConnection,
  ) {}

  /** Connects; pg is imported here so a run that uses no postgres connector never loads it. */
  static async open(settings: { connectionString: string; password?: string; application_name: string }): Promise<ReplicationConnection> {
    const { default: pg } = await import('pg');
    // pg passes `replication` in the startup message; its types leave it out.
    const config: ClientConfig & { replication: 'database' } = { ...settings, replication: 'database', connectionTimeoutMillis: 10_000 };
    const client = new pg.Client(config);
    // Until the stream starts an error surfaces through the query that fails; unhandled it would be fatal.
    client.on('error', () => {});
    await client.connect();
    return new ReplicationConnection(client, client.connection as CopyConnection);
  }

  /** Creates a pgoutput slot; with `exportSnapshot`, the snapshot it starts from stays importable until the next command here. */
  async createSlot(slot: string, exportSnapshot: boolean): Promise<{ consistentPoint: string; snapshotName: string | null }> {
    const result = await this.client.query<{ consistent_point: string; snapshot_name: string | null }>(
      `CREATE_REPLICATION_SLOT ${slot} LOGICAL pgoutput ${exportSnapshot ? 'EXPORT_SNAPSHOT' : 'NOEXPORT_SNAPSHOT'}`,
    );
    const row = result.rows[0]!;
    return { consistentPoint: row.consistent_point, snapshotName: row.snapshot_name };
  }

  /**
   * Streams the slot's changes from its confirmed position; resolves once the server started streaming. Handlers
   * are called for every message until `ended` (called once).
   */
  async start(slot: string, publication: string, handlers: StreamHandlers): Promise<void> {
    let started!: () => void;
    let refused!: (error: unknown) => void;
    const starting = new Promise<void>((resolve, reject) => {
      started = resolve;
      refused = reject;
    });
    const end = (error: unknown): void => {
      if (this.ended) return;
      this.ended = true;
      refused(error);
      handlers.ended(error);
    };
    this.connection.once('replicationStart', () => started());
    this.connection.on('copyData', ({ chunk }: { chunk: Buffer }) => {
      if (this.ended) return;
      try {
        if (chunk[0] === 0x77 /* w: XLogData, a 24-byte header then the message */) handlers.message(chunk.subarray(25));
        else if (chunk[0] === 0x6b /* k: primary keepalive */) handlers.keepalive(chunk.readBigUInt64BE(1), chunk[17] === 1);
      } catch (error) {
        end(error);
        void this.client.end().catch(() => undefined);
      }
    });
    this.client.removeAllListeners('error');
    this.client.on('error', end);
    this.client.query(`START_REPLICATION SLOT ${slot} LOGICAL 0/0 (proto_version '1', publication_names '${publication}')`).then(
      () => end(new WireError('UNAVAILABLE', 'postgres ended the replication stream')),
      end,
    );
    await starting;
  }

  /** A standby status update: everything up to `lsn` is safe here (written, flushed and applied alike). */
  sendStatus(lsn: bigint, replyRequested = false): void {
    if (this.ended) return;
    const message = Buffer.alloc(34);
    message[0] = 0x72; // r
    message.writeBigUInt64BE(lsn, 1);
    message.writeBigUInt64BE(lsn, 9);
    message.writeBigUInt64BE(lsn, 17);
    message.writeBigUInt64BE((BigInt(Date.now()) - POSTGRES_EPOCH_MS) * 1000n, 25);
    message[33] = replyRequested ? 1 : 0;
    this.connection.sendCopyFromChunk(message);
  }

  /** Stops (or starts again) reading the stream: the server's sends then wait in TCP buffers (backpressure). */
  pause(): void {
    this.connection.stream.pause();
  }

  resume(): void {
    this.connection.stream.resume();
  }

  async close(): Promise<void> {
    this.ended = true;
    await this.client.end().catch(() => undefined);
  }
}
