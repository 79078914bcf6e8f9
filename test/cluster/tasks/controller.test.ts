import { describe, expect, it } from 'vitest';
import { planTasks, type ControllerInput } from '../../../src/cluster/tasks/controller.js';
import { HeldLease, LeaseTable } from '../../../src/cluster/tasks/leases.js';
import type { NodeRecord, PipelineRecord } from '../../../src/cluster/records.js';
import type { TaskRecord } from '../../../src/cluster/tasks/task-records.js';

const source = { type: 'generate', config: {} };
const node = (id: string, labels: Record<string, string> = {}): NodeRecord => ({ id, raftAddress: '', httpAddress: '', role: 'voter', labels, updatedAt: 0 });
const pipeline = (desired: PipelineRecord['desired'] = 'running', version = 1, spec: Record<string, unknown> = {}): PipelineRecord => ({
  name: 'p',
  version,
  spec,
  desired,
  createdAt: 0,
  updatedAt: 0,
});
const task = (id: string, nodeId: string | null, epoch: number, extra: Partial<TaskRecord> = {}): TaskRecord => ({
  pipeline: 'p',
  task: id,
  epoch,
  node: nodeId,
  version: 1,
  source,
  drain: false,
  assignedAt: 0,
  ...extra,
});
const input = (over: Partial<ControllerInput>): ControllerInput => ({
  pipelines: [pipeline()],
  partitions: new Map([['p', { version: 1, partitions: [{ id: '0', source }, { id: '1', source }] }]]),
  tasks: [],
  nodes: [node('n1'), node('n2')],
  alive: () => true,
  leaving: () => false,
  firstEpoch: 1,
  ...over,
});

describe('the controller', () => {
  it('places the partitions of a running pipeline, one per node, at epoch 1', () => {
    const plan = planTasks(input({}));
    expect(plan.assign.map((a) => [a.task, a.node, a.epoch])).toEqual([
      ['0', 'n1', 1],
      ['1', 'n2', 1],
    ]);
  });

  it("moves a dead node's task at once, at epoch + 1", () => {
    const plan = planTasks(input({ tasks: [task('0', 'n1', 3), task('1', 'n2', 1)], alive: (n) => n !== 'n1' }));
    expect(plan.assign).toEqual([expect.objectContaining({ task: '0', node: 'n2', epoch: 4 })]);
    expect(plan.drain).toEqual([]);
  });

  it('drains, never reassigns, the tasks of a pipeline that stops or changes version', () => {
    const tasks = [task('0', 'n1', 1), task('1', 'n2', 1)];
    expect(planTasks(input({ tasks, pipelines: [pipeline('stopped')] })).drain).toHaveLength(2);
    const updated = planTasks(input({ tasks, pipelines: [pipeline('running', 2)], partitions: new Map([['p', { version: 2, partitions: [{ id: '0', source }] }]]) }));
    expect(updated.drain.map((d) => d.task)).toEqual(['0', '1']);
    expect(updated.assign).toEqual([]);
  });

  it('assigns a released task of a new version, and removes one whose partition is gone', () => {
    const plan = planTasks(
      input({
        tasks: [task('0', null, 2), task('1', null, 1)],
        pipelines: [pipeline('running', 2)],
        partitions: new Map([['p', { version: 2, partitions: [{ id: '0', source: { type: 'generate', config: { v: 2 } } }] }]]),
      }),
    );
    expect(plan.assign).toEqual([expect.objectContaining({ task: '0', epoch: 3, version: 2, source: { type: 'generate', config: { v: 2 } } })]);
    expect(plan.remove).toEqual([{ pipeline: 'p', task: '1' }]);
  });

  it('keeps the released tasks of a stopped pipeline (their checkpoints are where it resumes)', () => {
    expect(planTasks(input({ tasks: [task('0', null, 2)], pipelines: [pipeline('stopped')] }))).toEqual({ assign: [], drain: [], remove: [] });
  });

  it('leaves the tasks of a paused pipeline where they run, at their epoch: a pause moves nothing', () => {
    const tasks = [task('0', 'n1', 3), task('1', 'n2', 1)];
    expect(planTasks(input({ tasks, pipelines: [pipeline('paused')] }))).toEqual({ assign: [], drain: [], remove: [] });
  });

  it("places a paused pipeline's tasks as a running one's (their runs open paused), and fails them over", () => {
    const placed = planTasks(input({ pipelines: [pipeline('paused')] }));
    expect(placed.assign.map((a) => [a.task, a.node])).toEqual([
      ['0', 'n1'],
      ['1', 'n2'],
    ]);
    const failedOver = planTasks(input({ tasks: [task('0', 'n1', 3), task('1', 'n2', 1)], pipelines: [pipeline('paused')], alive: (n) => n !== 'n1' }));
    expect(failedOver.assign).toEqual([expect.objectContaining({ task: '0', node: 'n2', epoch: 4 })]);
  });

  it('drains the tasks of a leaving node and gives it nothing new', () => {
    const plan = planTasks(input({ tasks: [task('0', 'n1', 1)], leaving: (n) => n === 'n1' }));
    expect(plan.drain).toEqual([{ pipeline: 'p', task: '0', epoch: 1 }]);
    expect(plan.assign).toEqual([expect.objectContaining({ task: '1', node: 'n2' })]);
  });

  it('honours placement by node label', () => {
    const plan = planTasks(input({ nodes: [node('n1', { zone: 'a' }), node('n2', { zone: 'b' })], pipelines: [pipeline('running', 1, { placement: { labels: { zone: 'b' } } })] }));
    expect(plan.assign.map((a) => a.node)).toEqual(['n2', 'n2']);
  });

  it('leaves running tasks alone while a new leader has not split their pipeline yet', () => {
    const plan = planTasks(input({ tasks: [task('0', 'n1', 1), task('1', 'n2', 1)], partitions: new Map() }));
    expect(plan).toEqual({ assign: [], drain: [], remove: [] });
  });

  it('starts a task with no record above every epoch the log may have held (a recreated pipeline moves on from the deleted one)', () => {
    const plan = planTasks(input({ firstEpoch: 42 }));
    expect(plan.assign.map((a) => a.epoch)).toEqual([42, 42]);
  });

  it('does nothing while the partitions of the current version are not known', () => {
    const plan = planTasks(input({ tasks: [task('0', null, 1)], partitions: new Map() }));
    expect(plan).toEqual({ assign: [], drain: [], remove: [] });
  });
});

describe('leases', () => {
  const clockAt = () => {
    const c = { t: 0, now: () => c.t };
    return c;
  };

  it('a new leader waits one lease before judging a node it never heard dead', () => {
    const clock = clockAt();
    const table = new LeaseTable(clock, 2000);
    clock.t = 10_000;
    table.lead();
    clock.t = 11_000;
    expect(table.alive('n1')).toBe(true);
    clock.t = 11_001;
    expect(table.alive('n1')).toBe(false);
  });

  it('a renewal without stats (they come once a second) renews the lease and keeps the last stats', () => {
    const clock = clockAt();
    const table = new LeaseTable(clock, 2000);
    table.lead();
    const stats = [{ pipeline: 'p', task: '0', epoch: 1, state: 'running', recordsIn: 5, recordsOut: 5, deadLettered: 0, filtered: 0, rate: 1, lag: null, lastCheckpointAgoMs: null, lastError: null, restarts: 0 }] as const;
    table.renew('n1', stats);
    clock.t = 1900;
    table.renew('n1', undefined);
    expect(table.stats('n1')).toEqual(stats);
    clock.t = 3800;
    expect(table.alive('n1')).toBe(true);
    table.renew('n1', []);
    expect(table.stats('n1')).toEqual([]);
  });

  it('a node heard by a new leader keeps the whole failover timeout from then', () => {
    const clock = clockAt();
    const table = new LeaseTable(clock, 2000);
    table.lead();
    clock.t = 900;
    table.renew('n1', []);
    clock.t = 2900;
    expect(table.alive('n1')).toBe(true);
    clock.t = 2901;
    expect(table.alive('n1')).toBe(false);
  });

  it('a renewal keeps a node alive for the failover timeout from its arrival', () => {
    const clock = clockAt();
    const table = new LeaseTable(clock, 2000);
    table.lead();
    clock.t = 5000;
    table.renew('n1', []);
    clock.t = 7000;
    expect(table.alive('n1')).toBe(true);
    clock.t = 7001;
    expect(table.alive('n1')).toBe(false);
  });

  it('after a gap in its lease a node waits to apply as far as the grant; renewals while it holds do not raise the bar', () => {
    const clock = clockAt();
    const held = new HeldLease(clock, 1000);
    held.granted(held.sending(), 10);
    expect(held.caughtUp(9)).toBe(false);
    expect(held.caughtUp(10)).toBe(true);
    clock.t = 500;
    held.granted(held.sending(), 50);
    expect(held.caughtUp(10)).toBe(true);
    clock.t = 2000; // the lease ran out
    held.granted(held.sending(), 80);
    expect(held.caughtUp(79)).toBe(false);
  });

  it("a node's lease runs from when it sent the renewal, and ends before the leader may judge it dead", () => {
    const clock = clockAt();
    const held = new HeldLease(clock, 1000);
    const table = new LeaseTable(clock, 2000);
    table.lead();
    expect(held.valid()).toBe(false);
    const sent = held.sending();
    clock.t = 300; // the renewal arrives late
    table.renew('n1', []);
    held.granted(sent);
    clock.t = 999;
    expect(held.valid()).toBe(true);
    clock.t = 1000;
    expect(held.valid()).toBe(false);
    expect(table.alive('n1')).toBe(true);
  });
});
