import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Entry } from '../../../src/raft/core/types.js';
import { RaftNode } from '../../../src/raft/node.js';
import type { LogStore } from '../../../src/raft/ports.js';
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
});
