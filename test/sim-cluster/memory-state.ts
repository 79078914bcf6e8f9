/**
 * One node's copy of the replicated state, in memory: the production rules (`decodeCommand`, `planCommand`)
 * decide every entry, exactly as `ClusterStateMachine.apply` does, and their writes land in ordered maps instead
 * of LMDB. Every replica applies the same entries in the same order, so replicas at the same index are equal.
 */
import { decodeCommand, encodeCommand, type ClusterCommand } from '../../src/cluster/commands.js';
import { KEYSPACES, type KeyspaceName, type StateKey } from '../../src/cluster/keyspaces.js';
import type { AppliedPoint, ClusterRecord, NodeRecord, PipelineRecord, PipelineVersionRecord } from '../../src/cluster/records.js';
import type { StateReader } from '../../src/cluster/state-view.js';
import { TASK_EPOCH_FLOOR_KEY, type TaskCheckpointRecord, type TaskRecord } from '../../src/cluster/tasks/task-records.js';
import { planCommand, type CommandOutcome } from '../../src/cluster/transitions.js';
import { WireError } from '../../src/core/errors.js';
import type { AuditEdges, AuditRecord } from '../../src/security/audit-records.js';
import type { TokenRecord } from '../../src/security/auth-tokens.js';

/** An entry of the simulated log: the encoded command, as Raft carries it. */
export interface LogEntry {
  readonly index: number;
  readonly term: number;
  readonly data: Buffer;
}

export type ApplyResult = { readonly ok: true; readonly outcome: CommandOutcome } | { readonly ok: false; readonly error: WireError };

function compareKeys(a: StateKey, b: StateKey): number {
  const xs = typeof a === 'string' ? [a] : a;
  const ys = typeof b === 'string' ? [b] : b;
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    const x = xs[i]!;
    const y = ys[i]!;
    if (x === y) continue;
    if (typeof x === typeof y) return x < y ? -1 : 1;
    return typeof x === 'number' ? -1 : 1;
  }
  return xs.length - ys.length;
}

const keyText = (key: StateKey): string => JSON.stringify(key);

class Keyspace {
  private readonly values = new Map<string, { key: StateKey; value: unknown }>();

  get<T>(key: StateKey): T | undefined {
    return this.values.get(keyText(key))?.value as T | undefined;
  }

  put(key: StateKey, value: unknown): void {
    // A deep copy: a record read later must not change with the object a command carried.
    this.values.set(keyText(key), { key, value: structuredClone(value) });
  }

  delete(key: StateKey): void {
    this.values.delete(keyText(key));
  }

  range<T>(range: { start?: StateKey; end?: StateKey } = {}): T[] {
    return [...this.values.values()]
      .filter(({ key }) => (range.start === undefined || compareKeys(key, range.start) >= 0) && (range.end === undefined || compareKeys(key, range.end) < 0))
      .sort((a, b) => compareKeys(a.key, b.key))
      .map(({ value }) => value as T);
  }
}

export class MemoryState implements StateReader {
  private readonly keyspaces = new Map<KeyspaceName, Keyspace>();
  private point: AppliedPoint = { index: 0, term: 0 };

  private ks(name: KeyspaceName): Keyspace {
    let ks = this.keyspaces.get(name);
    if (ks === undefined) this.keyspaces.set(name, (ks = new Keyspace()));
    return ks;
  }

  /** Applies the next entry; an entry not right after the applied index is a bug of the simulator. */
  apply(entry: LogEntry): ApplyResult {
    if (entry.index !== this.point.index + 1) throw new Error(`entry ${entry.index} applied after ${this.point.index}`);
    this.point = { index: entry.index, term: entry.term };
    let command: ClusterCommand;
    try {
      command = decodeCommand(entry.data);
    } catch (error) {
      return { ok: false, error: error as WireError };
    }
    const plan = planCommand(this, command);
    if (!plan.ok) return plan;
    for (const w of plan.writes) {
      if (w.value === undefined) this.ks(w.keyspace).delete(w.key);
      else this.ks(w.keyspace).put(w.key, w.value);
    }
    return { ok: true, outcome: plan.outcome };
  }

  applied(): AppliedPoint {
    return this.point;
  }

  cluster(): ClusterRecord | undefined {
    return this.ks(KEYSPACES.cluster).get('cluster');
  }

  taskEpochFloor(): number {
    return this.ks(KEYSPACES.cluster).get<number>(TASK_EPOCH_FLOOR_KEY) ?? 0;
  }

  node(id: string): NodeRecord | undefined {
    return this.ks(KEYSPACES.nodes).get(id);
  }

  nodes(): NodeRecord[] {
    return this.ks(KEYSPACES.nodes).range();
  }

  pipeline(name: string): PipelineRecord | undefined {
    return this.ks(KEYSPACES.pipelines).get(name);
  }

  pipelines(): PipelineRecord[] {
    return this.ks(KEYSPACES.pipelines).range();
  }

  version(name: string, version: number): PipelineVersionRecord | undefined {
    return this.ks(KEYSPACES.pipelineVersions).get([name, version]);
  }

  versions(name: string): PipelineVersionRecord[] {
    return this.ks(KEYSPACES.pipelineVersions).range({ start: [name, 0], end: [name, Number.MAX_SAFE_INTEGER] });
  }

  task(pipeline: string, task: string): TaskRecord | undefined {
    return this.ks(KEYSPACES.tasks).get([pipeline, task]);
  }

  tasks(pipeline?: string): TaskRecord[] {
    return this.ks(KEYSPACES.tasks).range(pipeline === undefined ? {} : { start: [pipeline, ''], end: [pipeline, '\uffff'] });
  }

  checkpoint(pipeline: string, task: string): TaskCheckpointRecord | undefined {
    return this.ks(KEYSPACES.checkpoints).get([pipeline, task]);
  }

  token(id: string): TokenRecord | undefined {
    return this.ks(KEYSPACES.tokens).get(id);
  }

  tokens(): TokenRecord[] {
    return this.ks(KEYSPACES.tokens).range();
  }

  auditEdges(): AuditEdges | undefined {
    const seqs = this.ks(KEYSPACES.audit)
      .range<AuditRecord>()
      .map((r) => r.seq);
    return seqs.length === 0 ? undefined : { first: Math.min(...seqs), last: Math.max(...seqs) };
  }

  auditEntries(page: { readonly after?: number; readonly limit: number }): AuditRecord[] {
    const all = this.ks(KEYSPACES.audit).range<AuditRecord>();
    return (page.after === undefined ? all.slice(-page.limit) : all.filter((r) => r.seq > (page.after ?? 0))).slice(0, page.limit);
  }
}

/** The bytes of a command, checked as a proposer checks it. */
export function entryData(command: ClusterCommand): Buffer {
  return encodeCommand(command);
}
