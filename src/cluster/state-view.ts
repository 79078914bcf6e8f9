/** Typed reads of the replicated state, over one LMDB environment's keyspaces (see `keyspaces.ts`). */
import type { Database, Transaction } from 'lmdb';
import { decodeCanonical } from './codec.js';
import { KEYSPACES, type KeyspaceName, type StateKey } from './keyspaces.js';
import type { RecordCache } from './record-cache.js';
import type { AppliedPoint, ClusterRecord, NodeRecord, PipelineRecord, PipelineVersionRecord } from './records.js';
import { TASK_EPOCH_FLOOR_KEY, taskKey, taskRange, type TaskCheckpointRecord, type TaskRecord } from './tasks/task-records.js';
import type { TokenRecord } from '../security/auth-tokens.js';
import { auditKey, type AuditEdges, type AuditRecord } from '../security/audit-records.js';

export type KeyspaceDbs = Readonly<Record<KeyspaceName, Database<Buffer, StateKey>>>;

/** What a command's checks read; `planCommand` sees the state only through this. */
export interface StateReader {
  applied(): AppliedPoint;
  cluster(): ClusterRecord | undefined;
  /** Above every epoch of a task forgotten so far (removed, or its pipeline deleted): where a task without a record starts. */
  taskEpochFloor(): number;
  node(id: string): NodeRecord | undefined;
  nodes(): NodeRecord[];
  pipeline(name: string): PipelineRecord | undefined;
  pipelines(): PipelineRecord[];
  version(name: string, version: number): PipelineVersionRecord | undefined;
  versions(name: string): PipelineVersionRecord[];
  task(pipeline: string, task: string): TaskRecord | undefined;
  /** Every task of `pipeline`, or of every pipeline. */
  tasks(pipeline?: string): TaskRecord[];
  checkpoint(pipeline: string, task: string): TaskCheckpointRecord | undefined;
  token(id: string): TokenRecord | undefined;
  tokens(): TokenRecord[];
  auditEdges(): AuditEdges | undefined;
  /** Up to `limit` entries in order: after `after` when given, else the newest. */
  auditEntries(page: { readonly after?: number; readonly limit: number }): AuditRecord[];
}

/** Thrown when a stored value cannot be decoded: the data dir is damaged, never a user's mistake. */
export class CorruptStateError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CorruptStateError';
  }
}

export const versionKey = (name: string, version: number): StateKey => [name, version];

/** The keys [name, 1] … [name, MAX]: every version of one pipeline, in order. */
export const versionRange = (name: string): { start: StateKey; end: StateKey } => ({
  start: [name, 0],
  end: [name, Number.MAX_SAFE_INTEGER],
});

/**
 * Reads at one point in time when given a read transaction; inside a write transaction (no `txn`), LMDB
 * answers from that transaction, so a batch's later commands see its earlier ones. The state machine's apply
 * reads through its `RecordCache` (`cache`).
 */
export class StateView implements StateReader {
  constructor(
    private readonly dbs: KeyspaceDbs,
    private readonly txn?: Transaction,
    private readonly cache?: RecordCache,
  ) {}

  applied(): AppliedPoint {
    return this.get<AppliedPoint>(KEYSPACES.meta, 'applied') ?? { index: 0, term: 0 };
  }

  cluster(): ClusterRecord | undefined {
    return this.get(KEYSPACES.cluster, 'cluster');
  }

  taskEpochFloor(): number {
    return this.get<number>(KEYSPACES.cluster, TASK_EPOCH_FLOOR_KEY) ?? 0;
  }

  node(id: string): NodeRecord | undefined {
    return this.get(KEYSPACES.nodes, id);
  }

  nodes(): NodeRecord[] {
    return this.range(KEYSPACES.nodes);
  }

  pipeline(name: string): PipelineRecord | undefined {
    return this.get(KEYSPACES.pipelines, name);
  }

  pipelines(): PipelineRecord[] {
    return this.range(KEYSPACES.pipelines);
  }

  version(name: string, version: number): PipelineVersionRecord | undefined {
    return this.get(KEYSPACES.pipelineVersions, versionKey(name, version));
  }

  versions(name: string): PipelineVersionRecord[] {
    return this.range(KEYSPACES.pipelineVersions, versionRange(name));
  }

  task(pipeline: string, task: string): TaskRecord | undefined {
    return this.get(KEYSPACES.tasks, taskKey(pipeline, task));
  }

  tasks(pipeline?: string): TaskRecord[] {
    return this.range(KEYSPACES.tasks, pipeline === undefined ? {} : taskRange(pipeline));
  }

  checkpoint(pipeline: string, task: string): TaskCheckpointRecord | undefined {
    return this.get(KEYSPACES.checkpoints, taskKey(pipeline, task));
  }

  token(id: string): TokenRecord | undefined {
    return this.get(KEYSPACES.tokens, id);
  }

  tokens(): TokenRecord[] {
    return this.range(KEYSPACES.tokens);
  }

  auditEdges(): AuditEdges | undefined {
    // Materialized: a range left part way (a `return` inside its loop) could keep its cursor open.
    const edge = (reverse: boolean): number | undefined => {
      const [found] = [...this.dbs.audit.getKeys({ reverse, limit: 1, ...(this.txn ? { transaction: this.txn } : {}) })];
      return found === undefined ? undefined : Number(found);
    };
    const first = edge(false);
    const last = edge(true);
    return first === undefined || last === undefined ? undefined : { first, last };
  }

  auditEntries(page: { readonly after?: number; readonly limit: number }): AuditRecord[] {
    if (page.after !== undefined) return this.range<AuditRecord>(KEYSPACES.audit, { start: auditKey(page.after + 1), limit: page.limit });
    const edges = this.auditEdges();
    return edges === undefined ? [] : this.range<AuditRecord>(KEYSPACES.audit, { start: auditKey(Math.max(edges.first, edges.last - page.limit + 1)) });
  }

  private get<T>(keyspace: KeyspaceName, key: StateKey): T | undefined {
    return this.cache === undefined ? this.load<T>(keyspace, key) : this.cache.get(keyspace, key, () => this.load<T>(keyspace, key));
  }

  private load<T>(keyspace: KeyspaceName, key: StateKey): T | undefined {
    const bytes = this.dbs[keyspace].get(key, this.txn ? { transaction: this.txn } : undefined);
    return bytes === undefined ? undefined : decodeRecord<T>(bytes, keyspace, key);
  }

  private range<T>(keyspace: KeyspaceName, bounds: { start?: StateKey; end?: StateKey; limit?: number } = {}): T[] {
    const out: T[] = [];
    for (const { key, value } of this.dbs[keyspace].getRange({ ...bounds, ...(this.txn ? { transaction: this.txn } : {}) })) {
      out.push(decodeRecord<T>(value, keyspace, key));
    }
    return out;
  }
}

function decodeRecord<T>(bytes: Buffer, keyspace: KeyspaceName, key: StateKey): T {
  try {
    // The record's name is only for the error: built for every read, it cost more than many a decode.
    return decodeCanonical(bytes, 'a stored record') as T;
  } catch (error) {
    throw new CorruptStateError(`the stored record ${keyspace}/${JSON.stringify(key)} cannot be decoded`, { cause: error });
  }
}
