import { afterEach, describe, expect, it } from 'vitest';
import type { LogStore } from '../../../src/raft/ports.js';
import type { DiskStorage } from '../../../src/raft/storage/disk-storage.js';
import { encodeCommand } from '../kv.js';
import { waitFor } from '../transport/wait.js';
import { TestCluster } from './cluster.js';

/** A node's log whose appends, once written, are reported durable only when the test lets them (a slow fsync). */
class HeldLog {
  held = false;
  private waiting: (() => void)[] = [];

  wrap<T extends LogStore>(log: T): T {
    return new Proxy(log, {
      get: (target, prop) => {
        if (prop === 'append') {
          return async (...args: Parameters<LogStore['append']>) => {
            await target.append(...args);
            if (this.held) await new Promise<void>((resolve) => this.waiting.push(resolve));
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  release(): void {
    this.held = false;
    for (const resolve of this.waiting.splice(0)) resolve();
  }
}

describe('RaftNode: a leader does not wait for its own write to commit what its followers hold', () => {
  let cluster: TestCluster | undefined;
  const logs = new Map<string, HeldLog>();
  afterEach(async () => {
    for (const log of logs.values()) log.release();
    logs.clear();
    await cluster?.close();
    cluster = undefined;
  });

  async function threeNodes(): Promise<TestCluster> {
    cluster = await TestCluster.create({ commitHoldMs: 0 });
    cluster.wrapStorage = (id: string, storage: DiskStorage): DiskStorage => {
      const held = new HeldLog();
      logs.set(id, held);
      return { ...storage, log: held.wrap(storage.log) };
    };
    await cluster.found(['a', 'b', 'c']);
    await cluster.putViaLeader('warm', 'up');
    return cluster;
  }

  it('applies and answers a write both followers made durable while its own write of it is still landing', async () => {
    const c = await threeNodes();
    const leader = await c.leader();
    logs.get(leader.id)!.held = true;
    const put = leader.node.propose(encodeCommand({ op: 'put', key: 'k', value: 'v' }));
    const outcome = await Promise.race([put.then(() => 'answered'), new Promise((r) => setTimeout(() => r('still waiting'), 5_000))]);
    expect(outcome).toBe('answered');
    expect(leader.kv.get('k')).toBe('v');
  });

  it('does not count its own write toward the quorum before it is durable', async () => {
    const c = await threeNodes();
    const leader = await c.leader();
    const [follower, stopped] = ['a', 'b', 'c'].filter((id) => id !== leader.id);
    await c.stop(stopped!);
    logs.get(leader.id)!.held = true;
    let answered = false;
    const put = leader.node.propose(encodeCommand({ op: 'put', key: 'k', value: 'v' })).then(() => (answered = true));
    const index = leader.node.status().lastIndex;
    // The one follower up holds the entry: with the leader's own copy not durable that is one vote of three.
    await waitFor('the follower to hold the entry', () => (leader.node.status().peers.find((p) => p.id === follower)?.match ?? 0) >= index);
    expect(leader.node.status().commit).toBeLessThan(index);
    expect(answered).toBe(false);
    logs.get(leader.id)!.release();
    await put;
    expect(leader.node.status().commit).toBeGreaterThanOrEqual(index);
  });
});
