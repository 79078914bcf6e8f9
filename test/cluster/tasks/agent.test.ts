import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TaskAgent } from '../../../src/cluster/agent/agent.js';
import type { StartRun } from '../../../src/cluster/agent/task-runs.js';
import { ClusterCheckpoints, type CheckpointItem } from '../../../src/cluster/checkpoint-store/cluster-checkpoints.js';
import type { ClusterStateMachine } from '../../../src/cluster/fsm.js';
import { HeldLease } from '../../../src/cluster/tasks/leases.js';
import type { RefusedCheckpoint, TaskOutcome } from '../../../src/cluster/tasks/task-transitions.js';
import { WireError } from '../../../src/core/errors.js';
import type { PipelineHandle, RunSummary } from '../../../src/engine/index.js';
import { ManualClock } from './manual-clock.js';
import { entries, openFsm, tempDir } from '../fsm/harness.js';

const spec = { name: 'p', source: { type: 'generate', config: {} }, sink: { type: 'stdout', config: {} } };
const node = (id: string) => ({ v: 1, type: 'node.upsert', node: { id, raftAddress: `${id}:1`, httpAddress: `${id}:2`, role: 'voter', labels: {} }, at: 1 });

/** A run the test ends by hand. */
class FakeRun implements PipelineHandle {
  stopped = false;
  killed = false;
  private finish!: (s: RunSummary) => void;
  readonly done = new Promise<RunSummary>((r) => (this.finish = r));
  constructor(readonly start: StartRun) {}
  stop(): void {
    this.stopped = true;
  }
  kill(): void {
    this.killed = true;
  }
  paused = false;
  pauses = 0;
  /** As the engine: reads nothing more, then saves what it read (position 9 here) and resolves once it is saved. */
  async pause(): Promise<void> {
    this.paused = true;
    this.pauses++;
    await this.start.store.save('k', { position: 9, updatedAt: 0 });
  }
  resume(): void {
    this.paused = false;
  }
  end(cause: RunSummary['cause'], error?: WireError): void {
    this.finish({ pipeline: 'p', state: cause === 'error' ? 'failed' : 'stopped', cause, elapsedMs: 0, rate: 0, workers: 0, recordsIn: 0, recordsOut: 0, deadLettered: 0, dropped: 0, filtered: 0, unconfirmed: 0, errors: 0, ...(error ? { error } : {}) });
  }
  progress(): ReturnType<PipelineHandle['progress']> {
    return { pipeline: 'p', recordsIn: 0, recordsOut: 0, deadLettered: 0, dropped: 0, filtered: 0, unconfirmed: 0, errors: 0, elapsedMs: 0, rate: 0, inFlightBatches: 0 };
  }
}

describe('the agent and the cluster checkpoint store', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let fsm: ClusterStateMachine;
  let next: number;
  let clock: ManualClock;
  let lease: HeldLease;
  let runs: FakeRun[];
  let warnings: string[];
  let commits: CheckpointItem[][];
  let releases: number[];
  let agent: TaskAgent;
  let checkpoints: ClusterCheckpoints;

  const apply = async (...commands: unknown[]): Promise<unknown[]> => {
    const results = await fsm.apply(entries(commands, next));
    next += commands.length;
    return results.map((r) => (r.status === 'applied' ? r.outcome : r));
  };
  const eventually = async (ok: () => boolean): Promise<void> => {
    for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
  };
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };

  beforeEach(async () => {
    dir = await tempDir();
    fsm = await openFsm(dir.path);
    next = 1;
    clock = new ManualClock();
    lease = new HeldLease(clock, 1000);
    runs = [];
    warnings = [];
    commits = [];
    releases = [];
    checkpoints = new ClusterCheckpoints({
      state: () => fsm.view(),
      clock,
      intervalMs: 1000,
      commit: async (items) => {
        commits.push([...items]);
        const [outcome] = await apply({ v: 1, type: 'checkpoint.commit', node: 'n1', checkpoints: items.map((i) => ({ ...i })), at: 1 });
        // A command the state machine cannot take at all fails the whole batch, as the node's write does.
        if ((outcome as { status?: string }).status === 'rejected') throw (outcome as { error: Error }).error;
        return (outcome as TaskOutcome & { refused: RefusedCheckpoint[] }).refused;
      },
      onRefused: (r) => agent.refused(r),
    });
    agent = new TaskAgent({
      nodeId: 'n1',
      state: () => fsm.view(),
      clock,
      lease,
      checkpoints,
      runner: (start) => {
        const run = new FakeRun(start);
        runs.push(run);
        return run;
      },
      release: async (pipeline, task, epoch) => {
        releases.push(epoch);
        await apply({ v: 1, type: 'task.release', pipeline, task, epoch, node: 'n1', at: 1 });
      },
      log: { info: () => undefined, warn: (m: string) => warnings.push(m), debug: () => undefined },
      backoff: { initialMs: 100, maxMs: 1000, maxRestarts: 2 },
    });
    await apply({ v: 1, type: 'cluster.init', id: 'c', at: 1 }, node('n1'), node('n2'), { v: 1, type: 'pipeline.create', name: 'p', spec, desired: 'running', at: 1 });
    await apply({ v: 1, type: 'task.assign', assignments: [{ pipeline: 'p', task: '0', node: 'n1', epoch: 1, version: 1, source: spec.source }], at: 1 });
  });
  afterEach(async () => {
    agent.close();
    checkpoints.close();
    await fsm.close();
    await dir.remove();
  });

  const grantLease = (): void => lease.granted(lease.sending());

  it('starts an assigned task only while the node holds its lease, and kills it the moment the lease runs out', () => {
    agent.reconcile();
    expect(runs).toHaveLength(0);
    grantLease();
    agent.reconcile();
    expect(runs).toHaveLength(1);
    expect(runs[0]!.start.task).toMatchObject({ epoch: 1, node: 'n1' });
    clock.advance(999);
    agent.reconcile();
    expect(runs[0]!.killed).toBe(false);
    clock.advance(1);
    agent.reconcile();
    expect(runs[0]!.killed).toBe(true);
  });

  it('a version made with --reset starts afresh: no checkpoint of an earlier version is loaded, and later versions keep to it', async () => {
    grantLease();
    agent.reconcile();
    const first = runs[0]!;
    const saved = first.start.store.save('k', { position: 41, updatedAt: 0 });
    clock.advance(1000);
    await saved;
    grantLease();
    const replace = (reset: boolean) => ({ v: 1, type: 'pipeline.replace', name: 'p', spec, ...(reset ? { reset: true } : {}), at: 2 });
    const moveTo = (version: number, epoch: number) => ({ v: 1, type: 'task.assign', assignments: [{ pipeline: 'p', task: '0', node: 'n1', epoch, version, source: spec.source }], at: 2 });
    await apply(replace(true), moveTo(2, 2));
    agent.reconcile();
    first.end('stop');
    await eventually(() => (agent.reconcile(), runs.length === 2));
    expect(await runs[1]!.start.store.load('k')).toBeUndefined();
    // Version 3 (no reset of its own) still does not go back past version 2's reset to version 1's position.
    await apply(replace(false), moveTo(3, 3));
    agent.reconcile();
    runs[1]!.end('stop');
    await eventually(() => (agent.reconcile(), runs.length === 3));
    expect(await runs[2]!.start.store.load('k')).toBeUndefined();
    expect(first.killed).toBe(true);
  });

  it('commits the checkpoints of a run of a version made with --reset', async () => {
    grantLease();
    agent.reconcile();
    await apply({ v: 1, type: 'pipeline.replace', name: 'p', spec, reset: true, at: 2 });
    await apply({ v: 1, type: 'task.assign', assignments: [{ pipeline: 'p', task: '0', node: 'n1', epoch: 2, version: 2, source: spec.source }], at: 2 });
    agent.reconcile();
    runs[0]!.end('stop');
    await eventually(() => (agent.reconcile(), runs.length === 2));
    const saved = runs[1]!.start.store.save('k', { position: 7, updatedAt: 0 });
    clock.advance(1000);
    await saved;
    expect(fsm.view().checkpoint('p', '0')).toMatchObject({ epoch: 2, version: 2, checkpoint: { position: 7 } });
  });

  it("batches every save of an interval into one commit, and a refused one (older epoch) kills its run at once", async () => {
    grantLease();
    agent.reconcile();
    const store = runs[0]!.start.store;
    const a = store.save('k', { position: 1, updatedAt: 0 });
    const b = store.save('k', { position: 2, updatedAt: 0 });
    expect(commits).toHaveLength(0);
    clock.advance(1000);
    await Promise.all([a, b]);
    expect(commits).toHaveLength(1);
    expect(commits[0]!.map((i) => i.checkpoint['position'])).toEqual([2]);
    expect(fsm.view().checkpoint('p', '0')).toMatchObject({ epoch: 1, checkpoint: { position: 2, epoch: 1 } });

    await apply({ v: 1, type: 'task.assign', assignments: [{ pipeline: 'p', task: '0', node: 'n2', epoch: 2, version: 1, source: spec.source }], at: 2 });
    const late = store.save('k', { position: 3, updatedAt: 0 });
    clock.advance(1000);
    await expect(late).rejects.toMatchObject({ code: 'CONFLICT', details: { reason: 'stale-epoch' } });
    expect(runs[0]!.killed).toBe(true);
    expect(fsm.view().checkpoint('p', '0')).toMatchObject({ checkpoint: { position: 2 } });
  });

  it('sends the first save at once, and then at most one commit per interval', async () => {
    grantLease();
    agent.reconcile();
    const store = runs[0]!.start.store;
    const first = store.save('k', { position: 1, updatedAt: 0 });
    clock.advance(0);
    await first;
    expect(commits).toHaveLength(1);
    const second = store.save('k', { position: 2, updatedAt: 0 });
    clock.advance(999);
    await settle();
    expect(commits).toHaveLength(1);
    clock.advance(1);
    await second;
    expect(commits).toHaveLength(2);
  });

  it("sends at once the saves of a task someone waits on (a run's last checkpoint, a stop), the one pending before too", async () => {
    grantLease();
    agent.reconcile();
    const store = runs[0]!.start.store;
    const first = store.save('k', { position: 1, updatedAt: 0 });
    clock.advance(0);
    await first;
    const pending = store.save('k', { position: 2, updatedAt: 0 });
    await settle();
    expect(commits).toHaveLength(1);
    store.hurry?.('k');
    clock.advance(0);
    await pending;
    await settle();
    const last = store.save('k', { position: 3, updatedAt: 0 });
    clock.advance(0);
    await last;
    expect(commits.map((c) => c.map((i) => i.checkpoint['position']))).toEqual([[1], [2], [3]]);
    expect(fsm.view().checkpoint('p', '0')).toMatchObject({ checkpoint: { position: 3 } });
  });

  it('a run started again at the same epoch saves past what an earlier run here still had on its way', async () => {
    grantLease();
    agent.reconcile();
    const early = checkpoints.forTask({ pipeline: 'p', task: '0', epoch: 1, version: 1 });
    const pending = early.save('k', { position: 1, updatedAt: 0 });
    const again = checkpoints.forTask({ pipeline: 'p', task: '0', epoch: 1, version: 1 });
    const later = again.save('k', { position: 2, updatedAt: 0 });
    clock.advance(0);
    await Promise.all([pending, later]);
    expect(fsm.view().checkpoint('p', '0')).toMatchObject({ seq: 1, checkpoint: { position: 2 } });
  });

  it('a run started again at the same epoch resumes from where the earlier run here got to, not from an older committed checkpoint', async () => {
    grantLease();
    agent.reconcile();
    const early = checkpoints.forTask({ pipeline: 'p', task: '0', epoch: 1, version: 1 });
    const committed = early.save('k', { position: 1, updatedAt: 0 });
    clock.advance(0);
    await committed;
    const pending = early.save('k', { position: 5, updatedAt: 0 });
    const again = checkpoints.forTask({ pipeline: 'p', task: '0', epoch: 1, version: 1 });
    expect(await again.load('k')).toMatchObject({ position: 5 });
    const later = again.save('k', { position: 6, updatedAt: 0 });
    clock.advance(1000);
    await Promise.all([pending, later]);
    expect(fsm.view().checkpoint('p', '0')).toMatchObject({ checkpoint: { position: 6 } });
  });

  it("refuses a killed run's late save once a newer run of the task started here", async () => {
    grantLease();
    agent.reconcile();
    const killed = checkpoints.forTask({ pipeline: 'p', task: '0', epoch: 1, version: 1 });
    const again = checkpoints.forTask({ pipeline: 'p', task: '0', epoch: 1, version: 1 });
    const resumed = again.save('k', { position: 5, updatedAt: 0 });
    await expect(killed.save('k', { position: 3, updatedAt: 0 })).rejects.toMatchObject({ code: 'CONFLICT' });
    clock.advance(1000);
    await resumed;
    expect(fsm.view().checkpoint('p', '0')).toMatchObject({ checkpoint: { position: 5 } });
  });

  it('releases a drained task it does not run (the node restarted while it drained)', async () => {
    await apply({ v: 1, type: 'task.drain', tasks: [{ pipeline: 'p', task: '0', epoch: 1 }], at: 2 });
    grantLease();
    agent.reconcile();
    await eventually(() => fsm.view().task('p', '0')?.node === null);
    expect(runs).toHaveLength(0);
    expect(releases).toEqual([1]);
  });

  it('starts nothing under a lease until it has applied as far as the leader that granted it', async () => {
    lease.granted(lease.sending(), fsm.view().applied().index + 1);
    agent.reconcile();
    expect(runs).toHaveLength(0);
    // The entry it lacked: the task went to another node while this one was cut off.
    await apply({ v: 1, type: 'task.assign', assignments: [{ pipeline: 'p', task: '0', node: 'n2', epoch: 2, version: 1, source: spec.source }], at: 2 });
    agent.reconcile();
    expect(runs).toHaveLength(0);
    await apply({ v: 1, type: 'task.assign', assignments: [{ pipeline: 'p', task: '0', node: 'n1', epoch: 3, version: 1, source: spec.source }], at: 3 });
    agent.reconcile();
    expect(runs.map((r) => r.start.task.epoch)).toEqual([3]);
  });

  it('drains a task of a stopped pipeline, commits its last checkpoint, then releases it', async () => {
    grantLease();
    agent.reconcile();
    await apply({ v: 1, type: 'pipeline.setDesired', name: 'p', desired: 'stopped', at: 2 });
    agent.reconcile();
    expect(runs[0]!.stopped).toBe(true);
    const last = runs[0]!.start.store.save('k', { position: 9, updatedAt: 0 });
    clock.advance(1000);
    await last;
    runs[0]!.end('stop');
    await eventually(() => fsm.view().task('p', '0')?.node === null);
    expect(releases).toEqual([1]);
    expect(fsm.view().task('p', '0')).toMatchObject({ node: null, epoch: 1 });
    expect(fsm.view().checkpoint('p', '0')).toMatchObject({ checkpoint: { position: 9 } });
  });

  it('pauses the run of a paused pipeline in place, is paused once its checkpoint is committed, and resumes the same run', async () => {
    grantLease();
    agent.reconcile();
    const run = runs[0]!;
    await apply({ v: 1, type: 'pipeline.setDesired', name: 'p', desired: 'paused', at: 2 });
    agent.reconcile();
    expect(run).toMatchObject({ paused: true, pauses: 1, stopped: false, killed: false });
    // Paused once the checkpoint of what it read is committed.
    expect(agent.stats()).toEqual([expect.objectContaining({ state: 'pausing' })]);
    clock.advance(1000);
    grantLease();
    await eventually(() => agent.stats()[0]?.state === 'paused');
    expect(agent.stats()).toEqual([expect.objectContaining({ state: 'paused', epoch: 1 })]);
    expect(fsm.view().checkpoint('p', '0')).toMatchObject({ checkpoint: { position: 9 } });
    expect(fsm.view().task('p', '0')).toMatchObject({ node: 'n1', epoch: 1, drain: false });
    expect(releases).toEqual([]);

    await apply({ v: 1, type: 'pipeline.setDesired', name: 'p', desired: 'running', at: 3 });
    agent.reconcile();
    expect(runs).toHaveLength(1);
    expect(run).toMatchObject({ paused: false, stopped: false, killed: false });
    expect(agent.stats()).toEqual([expect.objectContaining({ state: 'running', epoch: 1 })]);
  });

  it("starts a paused pipeline's newly assigned task paused", async () => {
    await apply({ v: 1, type: 'pipeline.setDesired', name: 'p', desired: 'paused', at: 2 });
    grantLease();
    agent.reconcile();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ paused: true, pauses: 1 });
  });

  it('logs a pause whose checkpoint is never committed (the node stopping) instead of leaving its rejection unhandled', async () => {
    await apply({ v: 1, type: 'pipeline.setDesired', name: 'p', desired: 'paused', at: 2 });
    grantLease();
    agent.reconcile();
    expect(runs[0]).toMatchObject({ paused: true });
    checkpoints.close();
    await settle();
    expect(warnings.some((w) => w.includes('p/0: pause did not complete: the node is stopping'))).toBe(true);
  });

  it('restarts a failing task with backoff, then leaves it failed with its error', async () => {
    grantLease();
    agent.reconcile();
    runs[0]!.end('error', new WireError('UNAVAILABLE', 'disk on fire'));
    await settle();
    agent.reconcile();
    expect(runs).toHaveLength(1);
    clock.advance(100);
    grantLease();
    agent.reconcile();
    expect(runs).toHaveLength(2);
    runs[1]!.end('error', new WireError('UNAVAILABLE', 'disk on fire'));
    await settle();
    clock.advance(200);
    grantLease();
    agent.reconcile();
    expect(runs).toHaveLength(3);
    runs[2]!.end('error', new WireError('UNAVAILABLE', 'disk on fire'));
    await settle();
    clock.advance(10_000);
    grantLease();
    agent.reconcile();
    expect(runs).toHaveLength(3);
    expect(agent.stats()).toEqual([expect.objectContaining({ state: 'failed', lastError: expect.stringMatching(/disk on fire/), restarts: 3 })]);
  });
});
