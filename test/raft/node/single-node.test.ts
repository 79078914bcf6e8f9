import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/raft/core/types.js';
import { RaftNode } from '../../../src/raft/node.js';
import type { LogStore, StableStore } from '../../../src/raft/ports.js';
import type { WireMessage } from '../../../src/raft/snapshot/install-messages.js';
import { openDiskStorage, type DiskStorage } from '../../../src/raft/storage/disk-storage.js';
import { TcpTransport } from '../../../src/raft/transport/tcp.js';
import { encodeCommand, KvStateMachine } from '../kv.js';
import { waitFor } from '../transport/wait.js';

describe('RaftNode: a one-node cluster', () => {
  let dir: string;
  const nodes: RaftNode[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wire-raft-one-'));
  });
  afterEach(async () => {
    for (const n of nodes.splice(0)) await n.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function start(wrap: (s: DiskStorage) => DiskStorage = (s) => s): Promise<{ node: RaftNode; kv: KvStateMachine }> {
    const transport = await TcpTransport.listen<WireMessage>({ nodeId: 'solo', clusterId: 'one' });
    const storage = wrap(await openDiskStorage(dir));
    const kv = new KvStateMachine();
    const node = await RaftNode.start({
      id: 'solo',
      address: transport.address,
      membership: { voters: [{ id: 'solo', address: transport.address }], learners: [] },
      storage,
      transport,
      stateMachine: kv,
      tickMs: 10,
      onError: () => undefined,
    });
    nodes.push(node);
    return { node, kv };
  }

  it('commits alone and replays its durable log after a restart', async () => {
    const first = await start();
    await waitFor('leadership', () => first.node.status().role === 'leader');
    for (let i = 0; i < 10; i++) await first.node.propose(encodeCommand({ op: 'put', key: `k${i}`, value: `v${i}` }));
    await first.node.stop();
    nodes.length = 0;
    const second = await start();
    await waitFor('leadership again', () => second.node.status().role === 'leader');
    await waitFor('replayed', () => second.kv.data.size === 10);
    expect(second.kv.get('k9')).toBe('v9');
    expect(second.node.status().term).toBeGreaterThan(1);
  });

  it('stops itself with a fatal error when the log cannot be written, failing waiting proposals', async () => {
    let failing = false;
    const { node } = await start((s) => {
      const log: LogStore = {
        firstIndex: () => s.log.firstIndex(),
        lastIndex: () => s.log.lastIndex(),
        term: (i) => s.log.term(i),
        entries: (lo, hi, max) => s.log.entries(lo, hi, max),
        append: (entries: readonly Entry[]) => (failing ? Promise.reject(new Error('disk full')) : s.log.append(entries)),
        compact: (i, t) => s.log.compact(i, t),
        reset: (i, t) => s.log.reset(i, t),
        close: () => s.log.close(),
      };
      return { ...s, log } as unknown as DiskStorage;
    });
    const fatal: Error[] = [];
    node.on('fatal', (err) => fatal.push(err));
    await waitFor('leadership', () => node.status().role === 'leader');
    await node.propose(encodeCommand({ op: 'put', key: 'a', value: '1' }));
    failing = true;
    const doomed = node.propose(encodeCommand({ op: 'put', key: 'b', value: '2' }));
    await expect(doomed).rejects.toMatchObject({ code: 'STOPPED' });
    expect(fatal.map((e) => e.message)).toEqual(['disk full']);
    await expect(node.readIndex()).rejects.toMatchObject({ code: 'STOPPED' });
  });

  it('does not wait for a commit-index-only hard state to be durable before the next Ready', async () => {
    const syncs: boolean[] = [];
    const { node, kv } = await start((s) => {
      const stable: StableStore = {
        loadHardState: () => s.stable.loadHardState(),
        saveHardState: (hs, options) => {
          syncs.push(options?.sync ?? true);
          const written = s.stable.saveHardState(hs, options);
          // A commit-only write that never reports back: the driver must not wait for it.
          return options?.sync === false ? new Promise<void>(() => undefined) : written;
        },
        close: () => s.stable.close(),
      };
      return { ...s, stable } as unknown as DiskStorage;
    });
    await waitFor('leadership', () => node.status().role === 'leader');
    for (let i = 0; i < 5; i++) await node.propose(encodeCommand({ op: 'put', key: `k${i}`, value: `v${i}` }), 5_000);
    expect(kv.get('k4')).toBe('v4');
    expect(syncs[0]).toBe(true);
    expect(syncs).toContain(false);
  });

  it('closes the storage and the transport it was given when it cannot start', async () => {
    const storage = await openDiskStorage(dir);
    const transport = await TcpTransport.listen<WireMessage>({ nodeId: 'solo', clusterId: 'one' });
    const closed: string[] = [];
    const start = RaftNode.start({
      id: 'solo',
      address: transport.address,
      // Neither a founding membership nor join: an empty node cannot start.
      storage: { ...storage, close: () => (closed.push('storage'), storage.close()) },
      transport: { send: (...a) => transport.send(...a), onMessage: (h) => transport.onMessage(h), close: () => (closed.push('transport'), transport.close()) },
      stateMachine: new KvStateMachine(),
    });
    await expect(start).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(closed.sort()).toEqual(['storage', 'transport']);
    await expect(storage.log.append([{ index: 1, term: 1, type: 0, data: new Uint8Array(1) }])).rejects.toThrow(/closed/);
  });
});
