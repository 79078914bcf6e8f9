import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'pg';
import { WireError } from '../../core/errors.js';
import type { ComponentDefinition, Source, SourceOpenOptions } from '../../core/ports.js';
import { WireRecord, type Batch, type Position } from '../../core/record.js';
import { resolveConfig } from '../config.js';
import { dropSlot, ensurePublication, resolveTables, slotState, type CapturedTable } from './cdc-catalog.js';
import { defaultName, PostgresCdcSourceSchema, type PostgresCdcSourceConfig } from './cdc-config.js';
import { PgoutputDecoder, type Relation } from './cdc-pgoutput.js';
import { atOrBefore, changePosition, resumePointOf, type ChangePosition } from './cdc-position.js';
import { TransactionProgress } from './cdc-progress.js';
import { ReplicationConnection } from './cdc-replication.js';
import { beginSnapshot, readSnapshot } from './cdc-snapshot.js';
import { isTransient, postgresEndpoint, postgresError } from './errors.js';
import { formatLsn, parseLsn } from './lsn.js';

/** 55006 object_in_use: the slot is still held by the walsender of a connection that just died (a kill -9). */
const retryable = (error: unknown): boolean => isTransient(error) || (error as { code?: unknown }).code === '55006';

/**
 * Captures changes of tables through logical replication (pgoutput, driven by hand: `cdc-replication.ts`). With
 * `snapshot`, it first creates the slot with an exported snapshot and reads the tables in a transaction that imports
 * it, then streams from the slot's consistent point. A position is a change's transaction (commit LSN) and its place
 * in it; the server is told an LSN (standby status update) only once the engine acknowledged every change up to it,
 * i.e. once a checkpoint covers them (`cdc-progress.ts`), so the slot keeps everything not yet safe. A restart
 * streams from the slot's confirmed position and skips what the checkpoint already covers; a reconnect skips what
 * was already delivered.
 */
export class PostgresCdcSource implements Source {
  private readonly endpoint: string;
  private signal: AbortSignal = new AbortController().signal;
  private sql: Client | undefined;
  private replication: ReplicationConnection | undefined;
  private pipeline = '';
  private slot = '';
  private publication = '';
  private tables: CapturedTable[] = [];
  private readonly keys = new Map<string, readonly string[]>();
  /** The snapshot still to read, from the consistent point of a slot just created. */
  private snapshot: string | undefined;
  private readonly endLsn: bigint | undefined;

  private decoder = this.newDecoder();
  private transactions = new TransactionProgress(0n);
  /** Changes at or before this are already delivered (in the checkpoint, or before a reconnect). */
  private skip: ChangePosition | undefined;
  private lastDelivered: ChangePosition | undefined;
  /** The open transaction: its commit LSN, as text for positions, its commit time; `ghost` when received before. */
  private txLsn = 0n;
  private txLsnText = '';
  private txTime = 0;
  private inTransaction = false;
  private ghost = false;

  private queue: WireRecord[] = [];
  private queueHead = 0;
  private paused = false;
  private reachedEnd = false;
  /** Why the stream stopped: retried when transient, else the run fails with it. */
  private down: unknown;
  private failure: WireError | undefined;
  private wake: (() => void) | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private lastSent = -1n;
  private closed = false;

  constructor(private readonly config: PostgresCdcSourceConfig) {
    this.endpoint = postgresEndpoint(config.dsn);
    this.endLsn = config.end_lsn === undefined ? undefined : parseLsn(config.end_lsn);
  }

  async open(options: SourceOpenOptions): Promise<void> {
    this.signal = options.signal;
    this.pipeline = options.pipeline;
    this.slot = this.config.slot ?? defaultName(options.pipeline);
    this.publication = this.config.publication ?? defaultName(options.pipeline);
    const from = resumePointOf(options.from);
    const settings = this.settings(options.pipeline);
    try {
      const { default: pg } = await import('pg');
      const sql = await this.retrying('connect', async () => {
        const client = new pg.Client({ ...settings, connectionTimeoutMillis: 10_000 });
        client.on('error', () => {});
        await client.connect();
        return client;
      });
      this.sql = sql;
      this.tables = await resolveTables(sql, this.config.tables);
      for (const table of this.tables) this.keys.set(table.name, table.key);
      await ensurePublication(sql, this.publication, this.tables, this.config.create_publication);
      const slot = await slotState(sql, this.slot);
      // A snapshot cut short (no checkpoint at its last row) is read again from a new slot: its rows come again.
      const snapshot = this.config.snapshot && (from === undefined || (from.kind === 'snapshot' && !from.last));
      if (from?.kind === 'change') this.skip = from.at;
      if (snapshot || slot === undefined) {
        if (!snapshot && from !== undefined) {
          throw new WireError(
            'NOT_FOUND',
            `postgres cdc source: replication slot ${this.slot} does not exist, so the changes after the checkpoint are gone; run with --from-start to begin again`,
            { slot: this.slot },
          );
        }
        if (slot !== undefined) await this.retrying('drop the slot', () => dropSlot(sql, this.slot));
        this.replication = await this.retrying('connect for replication', () => ReplicationConnection.open(settings));
        const created = await this.replication.createSlot(this.slot, snapshot);
        if (snapshot) {
          // Imported before anything else runs on the replication connection, which would end the exported snapshot.
          await beginSnapshot(sql, created.snapshotName!);
          this.snapshot = created.consistentPoint;
        }
      }
    } catch (error) {
      await this.close();
      throw postgresError('open', this.endpoint, error);
    }
  }

  async *read(maxRecords: number): AsyncIterable<Batch> {
    const max = Math.max(1, Math.floor(maxRecords));
    if (this.snapshot !== undefined) {
      try {
        yield* readSnapshot(this.sql!, this.tables, this.snapshot, max);
      } catch (error) {
        if (this.closed || this.signal.aborted) return;
        throw postgresError('snapshot (a rerun reads it again)', this.endpoint, error);
      }
      this.snapshot = undefined;
    }
    try {
      await this.startStream(this.replication);
    } catch (error) {
      // The walsender of a run just killed may still hold the slot (55006) for a moment: retried like a lost connection.
      if (!retryable(error) || this.config.reconnect_attempts === 0) throw postgresError('start replication', this.endpoint, error);
      this.down = error;
    }
    this.statusTimer = setInterval(() => this.sendStatus(this.endLsn !== undefined), this.config.status_interval);
    this.statusTimer.unref();
    const stopped = new Promise<void>((resolve) => this.signal.addEventListener('abort', () => resolve(), { once: true }));
    while (!this.closed && !this.signal.aborted) {
      if (this.failure !== undefined) throw this.failure;
      if (this.queueHead < this.queue.length) {
        yield this.take(max);
        continue;
      }
      if (this.reachedEnd) return;
      if (this.down !== undefined) {
        await this.reconnect();
        continue;
      }
      await Promise.race([new Promise<void>((resolve) => (this.wake = resolve)), stopped]);
      this.wake = undefined;
    }
  }

  async ack(position: Position): Promise<void> {
    const point = resumePointOf(position);
    if (point?.kind !== 'change') return;
    this.transactions.ack(point.at);
    this.sendStatus(false);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.statusTimer);
    this.sendStatus(false);
    this.wake?.();
    const replication = this.replication;
    this.replication = undefined;
    await replication?.close();
    const sql = this.sql;
    this.sql = undefined;
    await sql?.end().catch(() => undefined);
  }

  /** Runs `what` again with backoff while the server is unreachable, restarting, or still holds the slot. */
  private async retrying<T>(what: string, run: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        if (!retryable(error) || attempt >= this.config.reconnect_attempts) {
          throw postgresError(attempt === 0 ? what : `${what} (after ${attempt} retries)`, this.endpoint, error);
        }
      }
      await this.backoff(attempt + 1);
    }
  }

  private async backoff(attempt: number): Promise<void> {
    try {
      await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt - 1, 10)), undefined, { signal: this.signal });
    } catch {
      throw new WireError('UNAVAILABLE', `postgres at ${this.endpoint}: stopped while waiting to reconnect`);
    }
  }

  private newDecoder(): PgoutputDecoder {
    return new PgoutputDecoder((table) => this.keys.get(table));
  }

  private settings(pipeline: string): { connectionString: string; password?: string; application_name: string } {
    return {
      connectionString: this.config.dsn,
      ...(this.config.password === undefined ? {} : { password: this.config.password }),
      application_name: `wire:${pipeline}`,
    };
  }

  /** Starts streaming on `connection` (a new one when undefined); what was received and not delivered comes again. */
  private async startStream(connection: ReplicationConnection | undefined): Promise<void> {
    this.queue = [];
    this.queueHead = 0;
    this.paused = false;
    this.decoder = this.newDecoder();
    this.inTransaction = false;
    this.ghost = false;
    this.transactions.rewind(this.lastDelivered);
    if (this.lastDelivered !== undefined) this.skip = this.lastDelivered;
    this.down = undefined;
    const replication = connection ?? (await ReplicationConnection.open(this.settings(this.pipeline)));
    this.replication = replication;
    try {
      await replication.start(this.slot, this.publication, {
        message: (data) => this.onMessage(data),
        keepalive: (walEnd, reply) => this.onKeepalive(walEnd, reply),
        ended: (error) => this.onEnded(replication, error),
      });
    } catch (error) {
      this.replication = undefined;
      await replication.close();
      throw error;
    }
    // With an end to reach, ask for a keepalive at once: the stream may already be past it.
    if (this.endLsn !== undefined) this.sendStatus(true);
  }

  private async reconnect(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.backoff(attempt);
      } catch (error) {
        if (this.closed || this.signal.aborted) return;
        throw error;
      }
      try {
        await this.startStream(undefined);
        return;
      } catch (error) {
        if (!retryable(error) || attempt >= this.config.reconnect_attempts) {
          throw postgresError(`replication (after ${attempt} reconnect attempt(s))`, this.endpoint, error);
        }
      }
    }
  }

  private onEnded(replication: ReplicationConnection, error: unknown): void {
    if (this.replication === replication) this.replication = undefined;
    if (this.closed || this.signal.aborted) return;
    if (retryable(error) && this.config.reconnect_attempts > 0) this.down = error;
    else this.failure = postgresError('replication', this.endpoint, error);
    void replication.close();
    this.wake?.();
  }

  private onMessage(data: Buffer): void {
    const message = this.decoder.decode(data);
    switch (message.kind) {
      case 'begin':
        this.inTransaction = true;
        this.ghost = !this.transactions.begin(message.commitLsn);
        this.txLsn = message.commitLsn;
        this.txLsnText = formatLsn(message.commitLsn);
        this.txTime = message.commitTime;
        return;
      case 'change':
        this.change(message.op, message.relation, message.before, message.after, message.key);
        break;
      case 'truncate':
        for (const relation of message.relations) this.change('truncate', relation, null, null, undefined);
        break;
      case 'commit':
        this.inTransaction = false;
        if (this.ghost) this.ghost = false;
        else this.transactions.commit(message.endLsn);
        if (this.endLsn !== undefined && message.endLsn >= this.endLsn) this.end();
        this.sendStatusIfAdvanced();
        break;
      case 'other':
        return;
    }
    if (!this.paused && this.queue.length - this.queueHead >= this.config.max_buffered) {
      this.paused = true;
      this.replication?.pause();
    }
    this.wake?.();
  }

  /** A change as a record: its value written as JSON text here, so a pass-through pipeline never builds an object. */
  private change(op: 'insert' | 'update' | 'delete' | 'truncate', relation: Relation, before: string | null, after: string | null, key: string | undefined): void {
    if (this.ghost || this.reachedEnd) return;
    const seq = this.transactions.next();
    if (atOrBefore(this.txLsn, seq, this.skip)) return;
    this.transactions.deliver();
    const raw = `{"op":"${op}","table":${relation.tableJson},"lsn":"${this.txLsnText}","before":${before ?? 'null'},"after":${after ?? 'null'}}`;
    const record = WireRecord.fromRaw(raw, changePosition(this.txLsnText, seq));
    record.key = key;
    record.eventTime = this.txTime;
    this.queue.push(record);
  }

  private onKeepalive(walEnd: bigint, reply: boolean): void {
    if (!this.inTransaction) {
      this.transactions.idle(walEnd);
      if (this.endLsn !== undefined && walEnd >= this.endLsn && this.transactions.settled) this.end();
    }
    if (reply) this.sendStatus(false);
    else this.sendStatusIfAdvanced();
  }

  /** `end_lsn` reached: nothing more is read; the run ends once the engine took what is queued. */
  private end(): void {
    this.reachedEnd = true;
    if (!this.paused) {
      this.paused = true;
      this.replication?.pause();
    }
    this.wake?.();
  }

  private take(max: number): Batch {
    const end = Math.min(this.queue.length, this.queueHead + max);
    const batch = this.queue.slice(this.queueHead, end);
    this.queueHead = end;
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    }
    const last = batch[batch.length - 1]!.position as { lsn: string; seq: number };
    this.lastDelivered = { lsn: parseLsn(last.lsn), seq: last.seq };
    if (this.paused && !this.reachedEnd && this.queue.length - this.queueHead <= this.config.max_buffered / 2) {
      this.paused = false;
      this.replication?.resume();
    }
    return batch;
  }

  private sendStatusIfAdvanced(): void {
    if (this.transactions.confirmable > this.lastSent) this.sendStatus(false);
  }

  /** Tells the server the confirmed position (and that this client lives); nothing when the stream is down. */
  private sendStatus(replyRequested: boolean): void {
    const replication = this.replication;
    if (replication === undefined || this.snapshot !== undefined) return;
    // 0/0 (nothing confirmable yet) is a heartbeat only: the server ignores an invalid flush position.
    const lsn = this.transactions.confirmable;
    try {
      replication.sendStatus(lsn, replyRequested);
      this.lastSent = lsn;
    } catch (error) {
      this.onEnded(replication, error);
    }
  }
}

export const postgresCdcSourceDefinition: ComponentDefinition<Record<string, unknown>, Source> = {
  kind: 'source',
  type: 'postgres_cdc',
  description:
    'Captures the changes of PostgreSQL tables by logical replication (pgoutput): an initial snapshot consistent with the slot, then every insert, update, delete and truncate as a record with before/after; the LSN is confirmed to the server only once a checkpoint covers the changes.',
  schema: PostgresCdcSourceSchema,
  example: { dsn: 'postgres://wire@127.0.0.1:5432/shop', password: '${env:PGPASSWORD}', tables: ['public.orders'] },
  create: (config) => new PostgresCdcSource(resolveConfig('postgres_cdc source', PostgresCdcSourceSchema, config)),
  // The slot decides where changes resume and the tables which records come: the dsn is left out (it may hold a password).
  identity: (config) => {
    const { slot, tables } = resolveConfig('postgres_cdc source', PostgresCdcSourceSchema, config);
    return { label: `postgres tables ${tables.join(', ')}${slot === undefined ? '' : ` (slot ${slot})`}`, key: { slot: slot ?? null, tables } };
  },
  notes: [
    'Each change is a record `{ op, table, lsn, before, after }`: `op` is `snapshot`, `insert`, `update`, `delete` or `truncate`,',
    '`table` is `schema.table`, `lsn` the commit LSN of its transaction (the consistent point for snapshot rows), `before` and',
    '`after` the rows (null where there is none). The record\'s key is the primary key (one column: its value; several: a JSON',
    'array), so with lanes a row\'s changes stay in order; its event time is the commit time. Values: booleans and integers',
    'as numbers (a bigint beyond ±2^53 as a string), floats as numbers (NaN, Infinity as strings), `numeric` as a string (exact),',
    'json/jsonb parsed, everything else (timestamps, uuid, bytea `\\x…`, arrays) as the text Postgres writes.',
    '',
    '`before` depends on the table\'s REPLICA IDENTITY. With the default (the primary key) an update has `before: null` unless',
    'it changed the key (then `before` holds the old key), and a delete\'s `before` holds only the key. With',
    '`ALTER TABLE t REPLICA IDENTITY FULL` both hold the whole old row (more WAL). A large (TOASTed) value an update left',
    'unchanged is not sent: it is left out of `after`, unless the identity is FULL. A table with neither a primary key nor',
    'FULL is refused at open: Postgres would refuse its updates and deletes once published.',
    '',
    'Setup: the server needs `wal_level = logical` (and a free `max_replication_slots` and `max_wal_senders`); the user needs',
    'REPLICATION. The publication is created `FOR TABLE` the tables when missing (`create_publication: true`, the default),',
    'or must exist and publish every table (`false`, for a DBA-made one). The slot is created when missing, and survives',
    'restarts of the pipeline and the server: it keeps the WAL from the last confirmed position, so drop it when the pipeline',
    'is retired. Taking a snapshot drops and creates the slot: its consistent point is where the snapshot stands.',
    '',
    'Delivery: at-least-once from Postgres, and exactly-once into a sink that resumes from its checkpoint (the file sink) once',
    'the snapshot is complete. The server is told an LSN (a standby status update) only when the engine acknowledged every',
    'change of the transactions up to it, i.e. after a checkpoint covers them; with nothing outstanding, the server\'s own WAL',
    'end is confirmed, so an idle slot does not hold WAL. A restart streams from the slot\'s confirmed position and skips the',
    'changes the checkpoint covers (a checkpoint may fall inside a transaction). A run killed during the snapshot takes it again',
    'from a new slot (its rows come again: duplicates). A lost connection (a server restart) is retried with backoff',
    '(`reconnect_attempts`), streaming again from the slot and skipping what was already delivered; then the run fails naming',
    'the server (never the password). A lost connection during the snapshot fails the run: a rerun takes the snapshot again.',
    'Backpressure: at most `max_buffered` changes wait for the engine (plus one socket read); past it the source stops reading',
    'the replication socket, and the server waits. One task: a slot has one reader (no partitions).',
    '',
    'The replication protocol is driven over `pg` (`cdc-replication.ts`): CREATE_REPLICATION_SLOT … EXPORT_SNAPSHOT,',
    'START_REPLICATION with pgoutput (protocol 1) and standby status updates written by hand. pg-logical-replication was not',
    'used: its service confirms every received LSN on a timer (before a checkpoint covers it), has no reconnect, and its flow',
    'control awaits one promise per message.',
    '',
    'Tested against a real PostgreSQL 15 (test/connectors/postgres-cdc*.test.ts): a 10,000-row snapshot then 97,500 changes',
    '(inserts, updates, deletes) with a kill -9 after a checkpoint (every change present, checked by content, zero',
    'duplicates, the slot confirmed past the last change); a kill -9 inside the snapshot (every row present; the rows the',
    'checkpoint covered come twice, as said above); a server restart mid-stream (nothing lost, zero duplicates); and the',
    'bound on buffering (50,000 changes committed while the engine takes nothing: fewer than `max_buffered` + 2,000 wait).',
    'Runnable example: `examples/postgres-cdc.yaml`.',
  ].join('\n'),
  describePosition: (_config, position) => {
    const point = resumePointOf(position);
    if (point?.kind === 'snapshot') return point.last ? 'after the initial snapshot' : 'inside the initial snapshot (read again)';
    return `after change ${(position as { seq: number }).seq} of the transaction committed at ${(position as { lsn: string }).lsn}`;
  },
};
