import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClusterCommand } from '../../../src/cluster/commands.js';
import type { ClusterStateMachine } from '../../../src/cluster/fsm.js';
import { TaskDriver, type Leadership } from '../../../src/cluster/tasks/task-driver.js';
import { entries, openFsm, tempDir } from '../fsm/harness.js';
import { ManualClock } from './manual-clock.js';
import type { StateReader } from '../../../src/cluster/state-view.js';

/** A reader whose methods keep their `this` when spread into another object. */
function bind(view: StateReader): StateReader {
  const proto = Object.getPrototypeOf(view) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(proto)) {
    const value = (view as unknown as Record<string, unknown>)[key];
    if (key !== 'constructor' && typeof value === 'function') out[key] = (value as (...a: unknown[]) => unknown).bind(view);
  }
  return out as unknown as StateReader;
}

const source = { type: 'generate', config: {} };
const spec = { name: 'p', source, sink: { type: 'stdout', config: {} } };
const node = (id: string) => ({ v: 1, type: 'node.upsert', node: { id, raftAddress: `${id}:1`, httpAddress: `${id}:2`, role: 'voter', labels: {} }, at: 1 });

describe("the leader's task driver", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let fsm: ClusterStateMachine;
  let clock: ManualClock;
  let raft: Leadership;
  let proposed: ClusterCommand[];
  let driver: TaskDriver;
  /** What a proposal waits on before it resolves (a round's later proposals wait for its earlier ones). */
  let hold: Promise<void>;
  let partitions: { id: string; source: typeof source }[];

  const settle = async (): Promise<void> => {
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  };

  beforeEach(async () => {
    dir = await tempDir();
    fsm = await openFsm(dir.path);
    const setup = [{ v: 1, type: 'cluster.init', id: 'c', at: 1 }, node('n1'), node('n2'), { v: 1, type: 'pipeline.create', name: 'p', spec, desired: 'running', at: 1 }];
    await fsm.apply(entries(setup, 1));
    await fsm.apply(entries([{ v: 1, type: 'task.assign', assignments: [{ pipeline: 'p', task: '0', node: 'n1', epoch: 1, version: 1, source }], at: 1 }], setup.length + 1));
    clock = new ManualClock();
    raft = { isLeader: true, term: 2 };
    proposed = [];
    hold = Promise.resolve();
    partitions = [{ id: '0', source }, { id: '1', source }];
    driver = new TaskDriver({
      clock,
      failoverTimeoutMs: 2000,
      state: () => fsm.view(),
      propose: async (command) => {
        proposed.push(command);
        await hold;
      },
      leadership: () => raft,
      partitionsOf: async () => partitions,
      log: { info: () => undefined, warn: () => undefined, debug: () => undefined },
    });
  });
  afterEach(async () => {
    driver.stop();
    await fsm.close();
    await dir.remove();
  });

  /** One controller round (the first computes the partitions, the next acts on them). */
  const round = async (): Promise<void> => {
    clock.advance(200);
    await settle();
  };

  it('gives a node re-elected in a later term a fresh lease table and a new grace, though it was never seen to follow', async () => {
    driver.leading(raft);
    driver.renew('n1', [], false);
    clock.advance(1500);
    raft = { isLeader: true, term: 4 };
    // n1 renewed with the leader of term 2; who granted it what since is unknown to the leader of term 4.
    await round();
    expect(driver.leases.heardFrom('n1')).toBe(false);
    clock.advance(900);
    expect(driver.leases.alive('n1')).toBe(true);
  });

  it("drops the rest of a round's plan once the term it was made in is over (never forwarded to the next leader)", async () => {
    // Task 0 was released and the pipeline now has partition 1 only: a round assigns task 1, then removes task 0.
    await fsm.apply(entries([{ v: 1, type: 'task.release', pipeline: 'p', task: '0', epoch: 1, node: 'n1', at: 2 }], fsm.view().applied().index + 1));
    partitions = [{ id: '1', source }];
    driver.leading(raft);
    let release!: () => void;
    hold = new Promise((r) => (release = r));
    await round();
    await round();
    // The round waits on its first proposal; leadership moves on meanwhile.
    expect(proposed.map((c) => c.type)).toEqual(['task.assign']);
    raft = { isLeader: false, term: 3 };
    release();
    await settle();
    expect(proposed.map((c) => c.type)).toEqual(['task.assign']);
  });

  describe('with the state shape given', () => {
    let reads: number;
    let shaped: TaskDriver;
    beforeEach(() => {
      reads = 0;
      partitions = [{ id: '0', source }];
      shaped = new TaskDriver({
        clock,
        failoverTimeoutMs: 2000,
        state: () => {
          const view = fsm.view();
          return { ...bind(view), tasks: (pipeline?: string) => (reads++, view.tasks(pipeline)) };
        },
        propose: async (command) => void proposed.push(command),
        leadership: () => raft,
        partitionsOf: async () => partitions,
        log: { info: () => undefined, warn: () => undefined, debug: () => undefined },
        stateShape: () => fsm.shapeVersion(),
      });
    });
    afterEach(() => shaped.stop());

    it('reads the tasks no more while nothing but checkpoints changes and everyone stays alive', async () => {
      shaped.leading(raft);
      shaped.renew('n1', [], false);
      shaped.renew('n2', [], false);
      await round();
      await round();
      const settled = reads;
      const commit = { v: 1, type: 'checkpoint.commit', node: 'n1', checkpoints: [{ pipeline: 'p', task: '0', epoch: 1, seq: 1, version: 1, checkpoint: { position: 1 } }], at: 3 };
      await fsm.apply(entries([commit], fsm.view().applied().index + 1));
      shaped.renew('n1', [], false);
      shaped.renew('n2', [], false);
      await round();
      await round();
      expect(reads).toBe(settled);
      expect(proposed).toEqual([]);
    });

    it('still moves the tasks of a node that falls silent, though the state did not change', async () => {
      shaped.leading(raft);
      shaped.renew('n1', [], false);
      shaped.renew('n2', [], false);
      await round();
      await round();
      for (let i = 0; i < 12; i++) {
        shaped.renew('n2', [], false);
        await round();
      }
      expect(proposed).toContainEqual(expect.objectContaining({ type: 'task.assign', assignments: [expect.objectContaining({ task: '0', node: 'n2', epoch: 2 })] }));
    });
  });
});
