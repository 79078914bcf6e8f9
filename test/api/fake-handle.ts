/**
 * A ClusterHandle over a real ClusterStateMachine in a temp dir: writes are validated and applied at once, as a
 * one-node cluster would; `leader: false` makes it a follower that forwards (or, with `redirect`, refuses with
 * NOT_LEADER naming the leader's address), so the API's paths can be driven without Raft.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry, Gauge } from 'prom-client';
import { outcomeOf } from '../../src/cluster/apply-result.js';
import { encodeCommand, type ClusterCommand } from '../../src/cluster/commands.js';
import { ClusterStateMachine } from '../../src/cluster/fsm.js';
import type { ClusterHandle, ClusterStatus, MemberStatus, Readiness, ReadOptions, WriteOptions, WriteResult } from '../../src/cluster/handle.js';
import type { StateReader } from '../../src/cluster/state-view.js';
import { WireError } from '../../src/core/errors.js';
import { ENTRY_NORMAL } from '../../src/raft/core/types.js';

export interface FakeHandle extends ClusterHandle {
  /** This node leads (true) or follows `n2` (false); `leaderHttp: null` makes the leader unknown. */
  leader: boolean;
  leaderHttp: string | null;
  readonly reads: ReadOptions[];
  readonly writes: ClusterCommand[];
  readonly removed: string[];
  close(): Promise<void>;
}

export async function fakeHandle(options: { id?: string; init?: boolean } = {}): Promise<FakeHandle> {
  const id = options.id ?? 'n1';
  const dir = await mkdtemp(join(tmpdir(), 'wire-api-'));
  const fsm = await ClusterStateMachine.open({ dir: join(dir, 'fsm') });
  let index = 0;
  const metrics = new Registry();
  new Gauge({ name: 'wire_raft_term', help: 'current term', registers: [metrics] }).set(3);

  const apply = async (command: ClusterCommand): Promise<WriteResult> => {
    fsm.validate(command);
    index += 1;
    const [result] = await fsm.apply([{ index, term: 1, type: ENTRY_NORMAL, data: encodeCommand(command) }]);
    return { index, result: outcomeOf(result), servedBy: handle.leader ? id : 'n2' };
  };

  const members = (): MemberStatus[] => [
    { id, raftAddress: '127.0.0.1:4002', httpAddress: '127.0.0.1:4001', voter: true, reachable: true, leader: handle.leader },
    { id: 'n2', raftAddress: '127.0.0.1:5002', httpAddress: handle.leaderHttp ?? '', voter: true, reachable: true, leader: !handle.leader },
  ];

  const handle: FakeHandle = {
    id,
    leader: true,
    leaderHttp: '127.0.0.1:5001',
    reads: [],
    writes: [],
    removed: [],
    metrics,
    status(): ClusterStatus {
      return {
        id,
        role: handle.leader ? 'leader' : 'follower',
        leaderId: handle.leader ? id : 'n2',
        leaderHttp: handle.leader ? '127.0.0.1:4001' : handle.leaderHttp,
        term: 3,
        commitIndex: index,
        appliedIndex: index,
        clusterId: fsm.view().cluster()?.id ?? null,
        members: members(),
      };
    },
    async write(command: ClusterCommand, writeOptions: WriteOptions = {}): Promise<WriteResult> {
      if (!handle.leader && writeOptions.redirect === true) {
        throw new WireError('NOT_LEADER', 'not the leader', { leaderId: 'n2', leaderHttp: handle.leaderHttp });
      }
      handle.writes.push(command);
      return apply(command);
    },
    async read<T>(fn: (state: StateReader) => T, readOptions: ReadOptions = {}): Promise<T> {
      handle.reads.push(readOptions);
      return fn(fsm.view());
    },
    async backup(readOptions: ReadOptions = {}): Promise<AsyncIterable<Uint8Array>> {
      handle.reads.push(readOptions);
      return fsm.snapshot();
    },
    async removeNode(nodeId: string): Promise<void> {
      if (!members().some((m) => m.id === nodeId)) throw new WireError('NOT_FOUND', `node '${nodeId}' is not a member`, { node: nodeId });
      handle.removed.push(nodeId);
    },
    async transferLeader(to?: string): Promise<string> {
      if (to !== undefined && !members().some((m) => m.id === to)) throw new WireError('NOT_FOUND', `node '${to}' is not a member`, { node: to });
      handle.leader = false;
      return to ?? 'n2';
    },
    ready(): Readiness {
      const formed = fsm.view().cluster() !== undefined;
      return {
        ok: formed,
        checks: [
          { name: 'node', ok: true, detail: '' },
          { name: 'leader', ok: formed, detail: formed ? '' : 'no leader yet' },
          { name: 'store', ok: true, detail: '' },
        ],
      };
    },
    async close(): Promise<void> {
      await fsm.close();
      await rm(dir, { recursive: true, force: true });
    },
  };

  if (options.init !== false) {
    await apply({ v: 1, type: 'cluster.init', id: 'c-test', at: 1 });
    await apply({ v: 1, type: 'node.upsert', node: { id, raftAddress: '127.0.0.1:4002', httpAddress: '127.0.0.1:4001', role: 'voter', labels: { zone: 'a' } }, at: 1 });
  }
  return handle;
}
