/**
 * A Raft cluster in one process for driver tests: real TCP on 127.0.0.1, WAL and snapshot files in
 * a temp dir per node. `close()` stops every node and removes the temp dirs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Membership } from '../../../src/raft/core/types.js';
import { RaftNode } from '../../../src/raft/node.js';
import type { RaftNodeOptions } from '../../../src/raft/node-types.js';
import type { WireMessage } from '../../../src/raft/snapshot/install-messages.js';
import { openDiskStorage } from '../../../src/raft/storage/disk-storage.js';
import { TcpTransport, type TcpTransportOptions } from '../../../src/raft/transport/tcp.js';
import { encodeCommand, KvStateMachine } from '../kv.js';
import { waitFor } from '../transport/wait.js';

export interface TestNode {
  id: string;
  node: RaftNode;
  kv: KvStateMachine;
  transport: TcpTransport<WireMessage>;
  port: number;
}

export type Tuning = Partial<Omit<RaftNodeOptions, 'id' | 'address' | 'storage' | 'transport' | 'stateMachine'>>;

export class TestCluster {
  readonly nodes = new Map<string, TestNode>();
  readonly ports = new Map<string, number>();
  readonly errors: Error[] = [];
  private seed = 1;

  private constructor(
    readonly root: string,
    private readonly tuning: Tuning,
    private readonly transportTuning: Partial<TcpTransportOptions>,
  ) {}

  static async create(tuning: Tuning = {}, transportTuning: Partial<TcpTransportOptions> = {}): Promise<TestCluster> {
    return new TestCluster(await mkdtemp(join(tmpdir(), 'wire-raft-node-')), tuning, transportTuning);
  }

  address(id: string): string {
    return `127.0.0.1:${this.ports.get(id)}`;
  }

  /** Starts the founders together: listens first so the founding membership has every address. */
  async found(ids: string[]): Promise<void> {
    const transports = await Promise.all(ids.map((id) => this.listen(id)));
    const membership: Membership = { voters: ids.map((id) => ({ id, address: this.address(id) })), learners: [] };
    await Promise.all(ids.map((id, i) => this.startWith(id, transports[i]!, { membership })));
  }

  /** Starts (or restarts, from its directory) node `id`. */
  async start(id: string, extra: Tuning & { membership?: Membership; join?: boolean } = {}): Promise<TestNode> {
    return this.startWith(id, await this.listen(id), extra);
  }

  async stop(id: string): Promise<void> {
    const n = this.nodes.get(id);
    if (!n) return;
    this.nodes.delete(id);
    await n.node.stop();
  }

  get(id: string): TestNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`node ${id} is not running`);
    return n;
  }

  /** Waits until the running nodes agree on one leader, and returns it. */
  async leader(timeoutMs = 15_000): Promise<TestNode> {
    return waitFor(
      'a leader',
      () => {
        const running = [...this.nodes.values()];
        const leaders = running.filter((n) => n.node.status().role === 'leader');
        if (leaders.length !== 1) return undefined;
        const l = leaders[0]!;
        const term = l.node.status().term;
        const agree = running.filter((n) => n.node.status().leader === l.id && n.node.status().term === term);
        return agree.length > running.length / 2 ? l : undefined;
      },
      timeoutMs,
      20,
    );
  }

  async put(id: string, key: string, value: string): Promise<{ index: number; result: unknown }> {
    return this.get(id).node.propose(encodeCommand({ op: 'put', key, value }));
  }

  /**
   * Puts through whoever leads, retrying if leadership moves meanwhile (a loaded CI machine can
   * delay heartbeats past an election timeout). Puts are idempotent, so a retry is harmless.
   */
  async putViaLeader(key: string, value: string): Promise<{ index: number; result: unknown }> {
    for (let attempt = 1; ; attempt++) {
      const leader = await this.leader();
      try {
        return await leader.node.propose(encodeCommand({ op: 'put', key, value }));
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (attempt >= 5 || (code !== 'NOT_LEADER' && code !== 'UNAVAILABLE' && code !== 'TIMEOUT')) throw err;
      }
    }
  }

  async close(): Promise<void> {
    for (const id of [...this.nodes.keys()]) await this.stop(id);
    await rm(this.root, { recursive: true, force: true });
  }

  private async listen(id: string): Promise<TcpTransport<WireMessage>> {
    const transport = await TcpTransport.listen<WireMessage>({
      nodeId: id,
      clusterId: 'test',
      port: this.ports.get(id) ?? 0,
      backoffInitialMs: 10,
      backoffMaxMs: 200,
      ...this.transportTuning,
    });
    this.ports.set(id, Number(transport.address.split(':')[1]));
    return transport;
  }

  private async startWith(id: string, transport: TcpTransport<WireMessage>, extra: Tuning & { membership?: Membership; join?: boolean }): Promise<TestNode> {
    const storage = await openDiskStorage(join(this.root, id));
    const kv = new KvStateMachine();
    const seed = this.seed++;
    let s = seed;
    // A seeded xorshift per node: elections jitter differently per node but reproducibly.
    const random = (): number => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return (s >>> 0) / 2 ** 32;
    };
    // A failed start closes the storage and the transport itself.
    const node = await RaftNode.start({
      id,
      address: transport.address,
      storage,
      transport,
      stateMachine: kv,
      tickMs: 20,
      electionTicks: 10,
      random,
      onError: (err) => this.errors.push(err),
      ...this.tuning,
      ...extra,
    });
    const n = { id, node, kv, transport, port: this.ports.get(id)! };
    this.nodes.set(id, n);
    return n;
  }
}
