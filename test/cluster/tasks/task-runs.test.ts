// The agent's engine run of a task: its components learn the source partition the task reads, so a sink that its
// pipeline's tasks share (s3 object keys, postgres positions) keeps each task's part apart.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { engineRunner } from '../../../src/cluster/agent/task-runs.js';
import type { TaskRecord } from '../../../src/cluster/tasks/task-records.js';
import { MemoryCheckpointStore } from '../../../src/engine/memory-checkpoint-store.js';
import { CountingSource, MemorySink, fakeRegistry, spec } from '../../engine/fakes.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('a task run', () => {
  it("passes the task's source partition to its source and its sink", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'wire-task-runs-'));
    dirs.push(dataDir);
    const source = new CountingSource({ count: 3 });
    const sink = new MemorySink();
    const task: TaskRecord = {
      pipeline: 'orders',
      task: 'orders-3',
      epoch: 1,
      node: 'n1',
      version: 1,
      source: { type: 'fake', config: {} },
      drain: false,
      assignedAt: 0,
    };
    const run = engineRunner({ registry: fakeRegistry({ source, sink }), dataDir })({
      task,
      spec: spec({ name: 'orders' }) as unknown as TaskRecord['source'],
      store: new MemoryCheckpointStore(),
    });
    expect(await run.done).toMatchObject({ state: 'stopped', recordsOut: 3 });
    expect(source.opened?.partition).toBe('orders-3');
    expect(sink.openedWith?.partition).toBe('orders-3');
  });
});
