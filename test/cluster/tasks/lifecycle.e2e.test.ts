import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { http, NodeProcesses, until } from '../node/processes.js';
import { generateToFile, range, runningOn, sequence, startCluster, tasksOf, type TaskView } from './cluster.js';

const nodes = new NodeProcesses();
afterEach(() => nodes.stopAll());

describe('pipeline lifecycle in a cluster', () => {
  it('pause/resume, stop/start, update, rollback and delete each keep every record, once and in order', async () => {
    const [n1] = await startCluster(nodes, ['n1', 'n2', 'n3']);
    const node = n1!;
    const file = path.join(await nodes.dir(), 'out.jsonl');
    const count = 16_000;
    expect((await http(node, 'POST', '/v1/pipelines', generateToFile('seq', file, count, 2000))).status).toBe(201);
    await runningOn(node, 'seq');
    let written = 0;
    const progressed = async (): Promise<void> => {
      const before = written;
      await until('more records', async () => (written = (await sequence(file)).length) > before + 1000, 60_000);
    };
    const taskIn = (state: string): Promise<TaskView> =>
      until(`the task ${state}`, async () => {
        const [t] = await tasksOf(node, 'seq');
        return t?.state === state ? t : undefined;
      });
    const idle = async (): Promise<void> => {
      await until('the task released', async () => (await tasksOf(node, 'seq'))[0]?.node === null);
      const at = (await sequence(file)).length;
      await new Promise((r) => setTimeout(r, 1000));
      expect((await sequence(file)).length).toBe(at);
    };

    await progressed();
    // A pause keeps the task on its node at its epoch, with its run open: it reads nothing, and everything it read is
    // in the file. A resume makes the same run read on: its counts go on from where they were.
    const before = await runningOn(node, 'seq');
    expect((await http(node, 'POST', '/v1/pipelines/seq/pause')).status).toBe(200);
    const paused = await taskIn('paused');
    expect(paused).toMatchObject({ node: before.node, epoch: before.epoch, restarts: 0 });
    expect((await http(node, 'GET', '/v1/pipelines/seq/status')).body).toMatchObject({ desired: 'paused', state: 'paused' });
    const atPause = (await sequence(file)).length;
    expect(paused.recordsIn).toBe(atPause);
    await new Promise((r) => setTimeout(r, 1000));
    expect((await sequence(file)).length).toBe(atPause);
    expect((await tasksOf(node, 'seq'))[0]).toMatchObject({ state: 'paused', node: before.node, epoch: before.epoch, recordsIn: atPause });
    expect((await http(node, 'POST', '/v1/pipelines/seq/resume')).status).toBe(200);
    const resumed = await taskIn('running');
    expect(resumed).toMatchObject({ node: before.node, epoch: before.epoch, restarts: 0 });
    expect(resumed.recordsIn).toBeGreaterThanOrEqual(atPause);
    await progressed();

    expect((await http(node, 'POST', '/v1/pipelines/seq/stop')).status).toBe(200);
    await idle();
    expect((await http(node, 'POST', '/v1/pipelines/seq/start')).status).toBe(200);
    await progressed();

    // Version 2 changes the rate only: its tasks continue from version 1's checkpoint.
    expect((await http(node, 'PUT', '/v1/pipelines/seq', generateToFile('seq', file, count, 3000))).status).toBe(200);
    // Running, or already completed: on a loaded machine the little that is left after version 1 may be written
    // between two looks. The task seen last is in the message if neither comes.
    let seen: TaskView | undefined;
    await until('version 2 running or completed', async () => {
      seen = (await tasksOf(node, 'seq'))[0];
      return seen?.version === 2 && (seen.state === 'running' || seen.state === 'completed');
    }).catch((error: unknown) => {
      throw new Error(`${String(error)}; the task seen last: ${JSON.stringify(seen)}`);
    });
    await progressed();
    expect((await http(node, 'POST', '/v1/pipelines/seq/rollback', JSON.stringify({ to: 1 }), 'application/json')).status).toBe(200);
    await until('version 3 (= 1) running', async () => (await tasksOf(node, 'seq'))[0]?.version === 3);

    await until('every record written', async () => (await sequence(file)).length >= count, 90_000);
    await until('the task completed', async () => (await tasksOf(node, 'seq'))[0]?.state === 'completed');
    expect(await sequence(file)).toEqual(range(count));

    expect((await http(node, 'DELETE', '/v1/pipelines/seq')).status).toBe(200);
    expect((await http(node, 'GET', '/v1/pipelines/seq/status')).status).toBe(404);
    expect(await sequence(file)).toEqual(range(count));
  }, 240_000);

  it('deleting a running pipeline first stops its task at a checkpoint: every record it read is in the file', async () => {
    // Leases of 5 s: on a loaded machine a lapsed lease would kill the run while it drains (self-fencing), not the delete.
    const started = await startCluster(nodes, ['n1', 'n2', 'n3'], ['--task-failover-timeout', '10s']);
    const node = started[0]!;
    const file = path.join(await nodes.dir(), 'deleted.jsonl');
    expect((await http(node, 'POST', '/v1/pipelines', generateToFile('gone', file, 1_000_000, 2000))).status).toBe(201);
    const task = await runningOn(node, 'gone');
    await until('records written', async () => (await sequence(file)).length > 1000);
    const r = await http(node, 'DELETE', '/v1/pipelines/gone');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ deleted: 'gone' });
    expect((await http(node, 'GET', '/v1/pipelines/gone')).status).toBe(404);
    // The run ended by a stop (drained), not a kill: it wrote and flushed all it read, and nothing came after.
    const runner = started.find((n) => n.id === task.node)!;
    const ended = runner
      .stderr()
      .split('\n')
      .filter((l) => l.includes('"pipeline ended"') && l.includes('"pipeline":"gone"'))
      .map((l) => JSON.parse(l) as { cause: string; recordsIn: number; recordsOut: number; unconfirmed: number });
    expect(ended).toHaveLength(1);
    expect(ended[0]).toMatchObject({ cause: 'stop', unconfirmed: 0 });
    expect(ended[0]!.recordsOut).toBe(ended[0]!.recordsIn);
    const written = await sequence(file);
    expect(written).toEqual(range(ended[0]!.recordsIn));
    await new Promise((r) => setTimeout(r, 500));
    expect((await sequence(file)).length).toBe(written.length);
  }, 120_000);
});
