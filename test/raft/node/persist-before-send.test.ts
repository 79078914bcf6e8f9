import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AppendMessage } from '../../../src/raft/core/types.js';
import { RaftNode } from '../../../src/raft/node.js';
import type { RaftNodeOptions } from '../../../src/raft/node-types.js';
import type { LogStore, StableStore } from '../../../src/raft/ports.js';
import { openDiskStorage } from '../../../src/raft/storage/disk-storage.js';
import { KvStateMachine, encodeCommand } from '../kv.js';
import { waitFor } from '../transport/wait.js';
import { FakeTransport } from './fake-transport.js';

/** A founder plus a learner (the documented way to grow a cluster from one node), once it leads. */
async function startFounderWithLearner(storage: RaftNodeOptions['storage'], transport: FakeTransport): Promise<RaftNode> {
  const node = await RaftNode.start({
    id: 'solo',
    address: '127.0.0.1:1',
    membership: { voters: [{ id: 'solo', address: '127.0.0.1:1' }], learners: [{ id: 'learner', address: '127.0.0.1:2' }] },
    storage,
    transport,
    stateMachine: new KvStateMachine(),
    tickMs: 10,
    onError: () => undefined,
  });
  await waitFor('leadership', () => node.status().role === 'leader');
  return node;
}

describe('RaftNode: nothing leaves before the state it depends on is durable', () => {
  let dir: string;
  let node: RaftNode | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wire-raft-durable-'));
  });
  afterEach(async () => {
    await node?.stop();
    node = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('a single voter that wins its election sends no append before its new term is on disk', async () => {
    // Events in the order they happened: a hard state's term becoming durable, a message leaving.
    const events: string[] = [];
    const storage = await openDiskStorage(dir);
    const stable: StableStore = {
      loadHardState: () => storage.stable.loadHardState(),
      saveHardState: async (hs, options) => {
        await storage.stable.saveHardState(hs, options);
        if (options?.sync === false) return;
        // A slow fsync: anything sent meanwhile has left before the term was durable.
        await new Promise((r) => setTimeout(r, 50));
        events.push(`durable term ${hs.term}`);
      },
      close: () => storage.stable.close(),
    };
    const transport = new FakeTransport((m) => events.push(`${m.type} term ${m.term}`));
    node = await startFounderWithLearner({ ...storage, stable }, transport);
    const term = node.status().term;
    await waitFor('an append to the learner', () => transport.sent.some((m) => m.type === 'append' && m.term === term));
    const firstAppend = events.indexOf(`append term ${term}`);
    expect(events.indexOf(`durable term ${term}`)).toBeGreaterThanOrEqual(0);
    expect(events.indexOf(`durable term ${term}`)).toBeLessThan(firstAppend);
  });

  it('fsyncs the commit index that makes a membership change take effect', async () => {
    const saved: { commit: number; sync: boolean }[] = [];
    const storage = await openDiskStorage(dir);
    const stable: StableStore = {
      loadHardState: () => storage.stable.loadHardState(),
      saveHardState: (hs, options) => {
        saved.push({ commit: hs.commit, sync: options?.sync ?? true });
        return storage.stable.saveHardState(hs, options);
      },
      close: () => storage.stable.close(),
    };
    node = await RaftNode.start({
      id: 'solo',
      address: 'solo:1',
      membership: { voters: [{ id: 'solo', address: 'solo:1' }], learners: [] },
      storage: { ...storage, stable },
      transport: new FakeTransport(),
      stateMachine: new KvStateMachine(),
      tickMs: 10,
      onError: () => undefined,
    });
    await waitFor('leadership', () => node!.status().role === 'leader');
    await waitFor('the no-op committed', () => node!.status().commit === node!.status().lastIndex);
    const confIndex = node.status().lastIndex + 1;
    await node.addLearner({ id: 'learner', address: 'learner:1' });
    // Forgetting it after a power loss would bring back the configuration before the change.
    expect(saved.find((s) => s.commit >= confIndex)).toEqual({ commit: confIndex, sync: true });
  });

  it('a leader hands a new entry to its log, in the background, before the append that carries it leaves', async () => {
    // Events in the order they happened: an entry handed to the log, an append carrying it sent.
    const events: string[] = [];
    const storage = await openDiskStorage(dir);
    const log: LogStore = {
      firstIndex: () => storage.log.firstIndex(),
      lastIndex: () => storage.log.lastIndex(),
      term: (i) => storage.log.term(i),
      entries: (lo, hi, max) => storage.log.entries(lo, hi, max),
      append: (entries, options) => {
        for (const e of entries) events.push(`write ${e.index}${options?.background ? ' in the background' : ''}`);
        return storage.log.append(entries, options);
      },
      compact: (i, t) => storage.log.compact(i, t),
      reset: (i, t) => storage.log.reset(i, t),
      close: () => storage.log.close(),
    };
    const transport = new FakeTransport((m) => {
      if (m.type === 'append') for (const e of m.entries) events.push(`send ${e.index}`);
    });
    node = await startFounderWithLearner({ ...storage, log }, transport);
    const term = node.status().term;
    // The learner answers the leader's first append, so that the next entry is sent at once.
    await waitFor('a first append', () => transport.sent.some((m) => m.type === 'append'));
    const first = transport.sent.find((m): m is AppendMessage => m.type === 'append')!;
    const matched = first.entries[first.entries.length - 1]?.index ?? first.prevIndex;
    transport.deliver({ type: 'appendResponse', from: 'learner', to: 'solo', term, reject: false, index: matched, hintIndex: 0, hintTerm: 0 });
    await waitFor('the learner caught up', () => node!.status().peers.find((p) => p.id === 'learner')?.match === matched);

    const { index } = await node.propose(encodeCommand({ op: 'put', key: 'k', value: 'v' }));
    await waitFor('the entry sent to the learner', () => events.includes(`send ${index}`));
    expect(events.filter((e) => e.split(' ')[1] === String(index))).toEqual([`write ${index} in the background`, `send ${index}`]);
  });
});
