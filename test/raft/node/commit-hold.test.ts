import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock, type Clock, type TimerHandle } from '../../../src/raft/clock.js';
import { RaftNode } from '../../../src/raft/node.js';
import { openDiskStorage } from '../../../src/raft/storage/disk-storage.js';
import { KvStateMachine, encodeCommand } from '../kv.js';
import { waitFor } from '../transport/wait.js';
import { FakeTransport } from './fake-transport.js';

const HOLD_MS = 40;

/** The system clock, but for timers of `HOLD_MS`: those fire only when the test advances its time. */
class HeldTimerClock implements Clock {
  private now_ = 0;
  private readonly held = new Map<object, { due: number; fn: () => void }>();
  now = (): number => systemClock.now();
  setTimeout(fn: () => void, ms: number): TimerHandle {
    if (ms !== HOLD_MS) return systemClock.setTimeout(fn, ms);
    const handle = {};
    this.held.set(handle, { due: this.now_ + ms, fn });
    return handle;
  }
  clearTimeout(timer: TimerHandle): void {
    if (!this.held.delete(timer as object)) systemClock.clearTimeout(timer);
  }
  setInterval = systemClock.setInterval;
  clearInterval = systemClock.clearInterval;
  setImmediate = systemClock.setImmediate;

  advance(ms: number): void {
    this.now_ += ms;
    for (const [handle, t] of [...this.held]) {
      if (t.due > this.now_) continue;
      this.held.delete(handle);
      t.fn();
    }
  }
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('RaftNode: held commit indexes', () => {
  let dir: string;
  let node: RaftNode | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wire-raft-hold-'));
  });
  afterEach(async () => {
    await node?.stop();
    node = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('under steady proposals, each rides with the next append: the hold timer restarts with each hold and sends nothing', async () => {
    const clock = new HeldTimerClock();
    // The learner answers every append, so that each new entry goes to it at once.
    const transport: FakeTransport = new FakeTransport((m) => {
      if (m.type !== 'append') return;
      const index = m.prevIndex + m.entries.length;
      setImmediate(() => transport.deliver({ type: 'appendResponse', from: 'learner', to: 'solo', term: m.term, reject: false, index, hintIndex: 0, hintTerm: 0 }));
    });
    node = await RaftNode.start({
      id: 'solo',
      address: '127.0.0.1:1',
      membership: { voters: [{ id: 'solo', address: '127.0.0.1:1' }], learners: [{ id: 'learner', address: '127.0.0.1:2' }] },
      storage: await openDiskStorage(dir),
      transport,
      stateMachine: new KvStateMachine(),
      tickMs: 10,
      commitHoldMs: HOLD_MS,
      clock,
      onError: () => undefined,
    });
    await waitFor('leadership', () => node!.status().role === 'leader');
    await waitFor('the learner caught up', () => node!.status().peers.find((p) => p.id === 'learner')?.match === node!.status().lastIndex);

    const before = transport.sent.length;
    // A proposal every half hold: each commits and is held until the next one's append carries it.
    for (let i = 0; i < 8; i++) {
      await node.propose(encodeCommand({ op: 'put', key: `k${i}`, value: 'v' }));
      await turn();
      clock.advance(HOLD_MS / 2);
      await turn();
    }
    const commitOnly = transport.sent.slice(before).filter((m) => m.type === 'append' && m.entries.length === 0);
    expect(commitOnly).toEqual([]);

    // With no proposal after it, the last commit index goes out once its hold is over.
    const last = node.status().commit;
    clock.advance(HOLD_MS);
    await waitFor('the last commit index sent', () => transport.sent.some((m) => m.type === 'append' && m.entries.length === 0 && m.commit === last));
  });
});
