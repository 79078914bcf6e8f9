/**
 * The replicated state machine of a Wire cluster: Raft's `StateMachine` over LMDB (`docs/cluster.md`).
 *
 * - `apply` runs a batch of committed entries in one LMDB write transaction, together with the applied
 *   index and term: a restart resumes exactly after the last entry applied, and an entry at or below it
 *   is skipped. Each entry is decoded and checked again (`planCommand`); a rejected one writes nothing but
 *   still advances the applied index, and its WireError is its result.
 * - `snapshot` pins a read transaction at the call (the driver calls it between applies) and streams it.
 * - `restore` builds a new environment from a snapshot stream and swaps it in atomically (`state-dir.ts`).
 */
import type { Transaction } from 'lmdb';
import { WireError } from '../core/errors.js';
import type { Entry, SnapshotMeta } from '../raft/core/types.js';
import type { StateMachine } from '../raft/ports.js';
import { canonicalize, encodeCanonical, packr } from './codec.js';
import { decodeCommand, parseCommand, type ClusterCommand } from './commands.js';
import { KEYSPACES, SNAPSHOT_KEYSPACES, type KeyspaceName, type StateKey } from './keyspaces.js';
import { STATE_FORMAT_VERSION, type AppliedPoint } from './records.js';
import { encodeSnapshot, readSnapshot, SNAPSHOT_FORMAT, type SnapshotEntry, type SnapshotHeader } from './snapshot-format.js';
import { StateDir, type StepHook } from './state-dir.js';
import { openStateEnv, type StateEnv } from './state-env.js';
import { RecordCache } from './record-cache.js';
import { StateView, type StateReader } from './state-view.js';
import { planCommand, type StateWrite } from './transitions.js';
import type { ApplyResult } from './apply-result.js';

export interface ClusterStateMachineOptions {
  /** The state's own directory, e.g. `<data-dir>/fsm`. */
  readonly dir: string;
  /** Called at each step of a restore; tests stop the process there. */
  readonly onRestoreStep?: StepHook;
}

/** What a backup brings to a new cluster (`seed`): all but the old cluster's record and its members. */
const SEEDED_KEYSPACES: ReadonlySet<KeyspaceName> = new Set(SNAPSHOT_KEYSPACES.filter((k) => k !== KEYSPACES.cluster && k !== KEYSPACES.nodes));

/** Records per page read from a snapshot's read transaction: no cursor stays open across a yield. */
const SNAPSHOT_PAGE = 512;

interface OpenSnapshot {
  readonly txn: Transaction;
  released: boolean;
}

export class ClusterStateMachine implements StateMachine {
  private readonly snapshots = new Set<OpenSnapshot>();
  /** What apply read or wrote of the tasks and checkpoints, decoded (`record-cache.ts`). */
  private readonly records = new RecordCache();
  private shapeChanges = 0;
  private closed = false;
  private restoring = false;
  /** Applies not yet committed: a restore must not start under them (their writes would go to the old state). */
  private applying = 0;
  /** Set when a write failed part way (an apply, or a restore after its marker moved): memory and disk may disagree, so nothing more is served. */
  private broken: Error | undefined;

  private constructor(
    private readonly dir: StateDir,
    private env: StateEnv,
    private readonly hook: StepHook,
  ) {}

  static async open(options: ClusterStateMachineOptions): Promise<ClusterStateMachine> {
    const dir = await StateDir.open(options.dir);
    let env: StateEnv;
    try {
      env = openStateEnv(dir.current);
      if (env.dbs.meta.get('format') === undefined) env.root.transactionSync(() => env.dbs.meta.putSync('format', encodeCanonical(STATE_FORMAT_VERSION)));
    } catch (error) {
      throw new WireError('UNAVAILABLE', `cannot open the cluster state in ${dir.current}: ${(error as Error).message}`, { dir: dir.current }, error);
    }
    return new ClusterStateMachine(dir, env, options.onRestoreStep ?? (() => undefined));
  }

  /** The current state, for queries (`queries.ts`) and for checking a command before proposing it. */
  view(): StateReader {
    this.assertOpen();
    return new StateView(this.env.dbs);
  }

  /**
   * Grows with every applied command that changed more than checkpoints (and the audit log), and with every restore:
   * the task controller and agents skip their pass over the whole state when only checkpoints moved.
   */
  shapeVersion(): number {
    return this.shapeChanges;
  }

  appliedIndex(): number {
    return this.applied().index;
  }

  applied(): AppliedPoint {
    return this.view().applied();
  }

  /**
   * Checks `command` as applying it now would (shape, version, then the state's rules) and returns it
   * typed; throws the WireError applying would return. The state may change before it commits, so
   * apply checks again.
   */
  validate(command: unknown): ClusterCommand {
    const checked = parseCommand(command);
    // Judged item by item when applied, each refusal in the outcome: planning it here as well would read every
    // task and checkpoint of the batch (a node's 1,000 tasks each second) once more on the leader, for nothing.
    if (checked.type === 'checkpoint.commit') return checked;
    const plan = planCommand(this.view(), checked);
    if (!plan.ok) throw plan.error;
    return checked;
  }

  /**
   * Runs in an LMDB asynchronous transaction: committed (visible, and whole or absent after a crash) when
   * this resolves, synced to disk just after, so the event loop never waits on an fsync (a synchronous
   * transaction would, once per batch, stalling the Raft driver's heartbeats and transport). A power loss may
   * undo the last batches, never half of one, and Raft applies them again from its log.
   */
  async apply(entries: readonly Entry[]): Promise<ApplyResult[]> {
    this.assertOpen();
    if (this.restoring) throw new WireError('CONFLICT', 'entries cannot be applied while a snapshot is being restored');
    const { root, dbs } = this.env;
    // A view without a transaction: inside the callback LMDB answers it from the write transaction, so a
    // batch's later commands see its earlier ones.
    const view = new StateView(dbs, undefined, this.records);
    this.applying++;
    try {
      return await root.transaction(() => {
        let applied = view.applied();
        const results: ApplyResult[] = [];
        for (const entry of entries) {
          if (entry.index <= applied.index) {
            results.push({ status: 'skipped', index: entry.index });
            continue;
          }
          results.push(this.applyOne(view, entry));
          applied = { index: entry.index, term: entry.term };
        }
        if (applied.index !== view.applied().index) void dbs.meta.put('applied', encodeCanonical(applied));
        return results;
      });
    } catch (error) {
      // Only a damaged store or a failed disk gets here. lmdb-js does not roll back an asynchronous
      // transaction whose callback threw: part of the batch may be committed without its applied index.
      this.broken = error as Error;
      throw error;
    } finally {
      this.applying--;
    }
  }

  private applyOne(view: StateView, entry: Entry): ApplyResult {
    let command: ClusterCommand;
    try {
      command = decodeCommand(entry.data);
    } catch (error) {
      if (error instanceof WireError) return { status: 'rejected', index: entry.index, error };
      throw error;
    }
    const plan = planCommand(view, command);
    if (!plan.ok) return { status: 'rejected', index: entry.index, error: plan.error };
    for (const w of plan.writes) this.write(w);
    if (plan.writes.some((w) => w.keyspace !== KEYSPACES.checkpoints && w.keyspace !== KEYSPACES.audit)) this.shapeChanges++;
    return { status: 'applied', index: entry.index, outcome: plan.outcome };
  }

  private write(w: StateWrite): void {
    const db = this.env.dbs[w.keyspace];
    const value = w.value === undefined ? undefined : canonicalize(w.value);
    if (value === undefined) void db.remove(w.key);
    else void db.put(w.key, packr.pack(value));
    this.records.written(w.keyspace, w.key, value);
  }

  /** A stream of the state as it is now; later applies do not change it. */
  snapshot(): AsyncIterable<Uint8Array> {
    this.assertOpen();
    const { root, dbs } = this.env;
    const txn = root.useReadTransaction();
    const open: OpenSnapshot = { txn, released: false };
    this.snapshots.add(open);
    const release = (): void => {
      if (open.released) return;
      open.released = true;
      this.snapshots.delete(open);
      txn.done();
    };
    try {
      const view = new StateView(dbs, txn);
      const applied = view.applied();
      const header: SnapshotHeader = { format: SNAPSHOT_FORMAT, appliedIndex: applied.index, appliedTerm: applied.term, clusterId: view.cluster()?.id ?? null };
      return releasing(encodeSnapshot(header, snapshotEntries(this.env, open)), release);
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * Replaces the whole state with a snapshot's. `meta` (from Raft) is the point the snapshot stands for:
   * entries between the state's own applied index and `meta.index` are ones Raft keeps from the state
   * machine (membership changes, a leader's no-op), so the restored state is recorded as applied to it.
   */
  async restore(data: AsyncIterable<Uint8Array>, meta?: Pick<SnapshotMeta, 'index' | 'term'>): Promise<void> {
    await this.replaceWith(data, { meta });
  }

  /**
   * Fills an empty state from a backup (`GET /v1/cluster/backup`) for a new cluster: every keyspace but the
   * old cluster's identity and members (the new cluster records its own), applied to nothing, since the new
   * cluster's log starts again at index 1. Atomic like `restore`.
   */
  async seed(data: AsyncIterable<Uint8Array>): Promise<void> {
    if (this.appliedIndex() !== 0 || this.view().cluster() !== undefined) throw new WireError('CONFLICT', 'a backup is restored into an empty state only');
    await this.replaceWith(data, { seed: true });
  }

  private async replaceWith(data: AsyncIterable<Uint8Array>, how: { meta?: Pick<SnapshotMeta, 'index' | 'term'>; seed?: boolean }): Promise<void> {
    this.assertOpen();
    if (this.restoring) throw new WireError('CONFLICT', 'a restore is already under way');
    if (this.applying > 0) throw new WireError('CONFLICT', 'a snapshot cannot be restored while entries are being applied');
    this.restoring = true;
    try {
      await this.restoreFrom(data, how.meta, how.seed === true);
    } catch (error) {
      if (error instanceof WireError) throw error;
      throw new WireError('INTERNAL', `cannot restore the cluster state: ${(error as Error).message}`, {}, error);
    } finally {
      this.restoring = false;
    }
  }

  private async restoreFrom(data: AsyncIterable<Uint8Array>, meta: Pick<SnapshotMeta, 'index' | 'term'> | undefined, seed: boolean): Promise<void> {
    const ownCluster = this.view().cluster()?.id ?? null;
    const staged = await this.dir.stage();
    let env: StateEnv | undefined;
    try {
      const fresh = openStateEnv(staged.path);
      env = fresh;
      let first = true;
      // The header is judged once the checksum has vouched for it: a damaged one is reported as damaged.
      const { header } = await readSnapshot(data, async (entries) => {
        await fresh.root.transaction(() => {
          for (const e of entries) {
            if (seed && !SEEDED_KEYSPACES.has(e.keyspace)) continue;
            void fresh.dbs[e.keyspace].put(e.key, Buffer.from(e.value.buffer, e.value.byteOffset, e.value.length));
          }
        });
        if (first) await this.hook('receiving');
        first = false;
      });
      if (!seed) checkHeader(header, ownCluster, meta);
      const applied: AppliedPoint = seed ? { index: 0, term: 0 } : meta ? { index: meta.index, term: meta.term } : { index: header.appliedIndex, term: header.appliedTerm };
      await fresh.root.transaction(() => {
        void fresh.dbs.meta.put('format', encodeCanonical(STATE_FORMAT_VERSION));
        void fresh.dbs.meta.put('applied', encodeCanonical(applied));
      });
      await fresh.root.flushed;
      env = undefined;
      await fresh.root.close();
    } catch (error) {
      if (env) await env.root.close();
      await this.dir.discard(staged);
      throw error;
    }
    const path = await this.dir.commit(staged, this.hook);
    try {
      const old = this.env;
      this.env = openStateEnv(path);
      this.records.clear();
      this.shapeChanges++;
      this.releaseSnapshots();
      await old.root.close();
      await this.dir.removeOld();
    } catch (error) {
      this.broken = error as Error;
      throw error;
    }
    await this.hook('cleaned');
  }

  /** Ends every snapshot stream still reading: they fail at their next page instead of reading a closed environment. */
  private releaseSnapshots(): void {
    for (const s of this.snapshots) {
      s.released = true;
      s.txn.done();
    }
    this.snapshots.clear();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.releaseSnapshots();
    await this.env.root.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new WireError('UNAVAILABLE', 'the cluster state is closed');
    if (this.broken) throw new WireError('INTERNAL', `the cluster state is unusable after a failed write (restart the node): ${this.broken.message}`, {}, this.broken);
  }
}

function checkHeader(h: SnapshotHeader, ownCluster: string | null, meta: Pick<SnapshotMeta, 'index' | 'term'> | undefined): void {
  if (ownCluster !== null && h.clusterId !== null && h.clusterId !== ownCluster) {
    throw new WireError('CONFLICT', `snapshot refused: it is of cluster '${h.clusterId}', this node belongs to '${ownCluster}'`, {
      cluster: ownCluster,
      snapshotCluster: h.clusterId,
    });
  }
  if (meta && h.appliedIndex > meta.index) {
    throw new WireError('INVALID_INPUT', `snapshot refused: its state is at index ${h.appliedIndex}, past the index ${meta.index} it was sent for`, {
      reason: 'index',
    });
  }
}

/** Every record of the snapshot keyspaces in `open`'s transaction, page by page. */
function* snapshotEntries(env: StateEnv, open: OpenSnapshot): Generator<SnapshotEntry> {
  for (const keyspace of SNAPSHOT_KEYSPACES) {
    const db = env.dbs[keyspace];
    let after: StateKey | undefined;
    for (;;) {
      if (open.released) throw new WireError('UNAVAILABLE', 'the snapshot was cut short: the state was closed or replaced');
      // Materialized at once, so the cursor is closed before the first yield.
      const page = [...db.getRange({ transaction: open.txn, limit: SNAPSHOT_PAGE, ...(after === undefined ? {} : { start: after, offset: 1 }) })];
      for (const { key, value } of page) yield { keyspace, key, value };
      if (page.length < SNAPSHOT_PAGE) break;
      after = page[page.length - 1]!.key;
    }
  }
}

/** `source`, calling `release` once it ends, fails, or its consumer stops. */
async function* releasing(source: AsyncGenerator<Uint8Array>, release: () => void): AsyncGenerator<Uint8Array> {
  try {
    yield* source;
  } finally {
    release();
  }
}
