/**
 * A cluster of kv-node processes on 127.0.0.1, each with its data in its own folder under one temp dir.
 * Ports are chosen free once per node and kept, so a node restarted from its disk comes back at the
 * addresses the others know. `close()` stops every process it started and deletes the temp dir.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvClient, type KvNodeStatus } from './kv-client.js';
import { KvProcess, type Exit } from './kv-process.js';
import { poll } from './poll.js';

interface MemberAddresses {
  readonly raft: string;
  readonly http: string;
  readonly dir: string;
  args: string[];
}

export interface LeaderView {
  readonly id: string;
  readonly http: string;
  readonly status: KvNodeStatus;
}

export class KvCluster {
  readonly client = new KvClient();
  private readonly members = new Map<string, MemberAddresses>();
  private readonly processes = new Map<string, KvProcess>();

  private constructor(
    readonly root: string,
    /** Extra kv-node arguments given to every node (tick, snapshot threshold...). */
    private readonly nodeArgs: readonly string[],
  ) {}

  static async create(nodeArgs: readonly string[] = []): Promise<KvCluster> {
    return new KvCluster(await mkdtemp(join(tmpdir(), 'wire-kv-cluster-')), nodeArgs);
  }

  /** Starts the founding voters together (each must know every founder's address). */
  async found(ids: readonly string[]): Promise<void> {
    for (const id of ids) await this.allocate(id);
    const peers = ids.map((id) => `${id}=${this.raft(id)}/${this.http(id)}`).join(',');
    for (const id of ids) this.member(id).args = ['--peers', peers];
    await Promise.all(ids.map((id) => this.start(id)));
  }

  /** Allocates addresses for a node that will join later as a learner. */
  async prepareJoiner(id: string): Promise<void> {
    await this.allocate(id);
    this.member(id).args = ['--join'];
  }

  /** Starts node `id` (again, from its disk, if it ran before). */
  async start(id: string): Promise<KvProcess> {
    if (this.processes.get(id)?.running) throw new Error(`kv-node ${id} is already running`);
    const m = this.member(id);
    const args = ['--id', id, '--raft', m.raft, '--http', m.http, '--data', m.dir, ...m.args, ...this.nodeArgs];
    const p = await KvProcess.start(id, args, join(this.root, `${id}.log`));
    this.processes.set(id, p);
    return p;
  }

  /** Kills node `id` (SIGKILL by default: no chance to flush anything). */
  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<Exit | undefined> {
    return this.processes.get(id)?.kill(signal);
  }

  raft(id: string): string {
    return this.member(id).raft;
  }

  http(id: string): string {
    return this.member(id).http;
  }

  pid(id: string): number | undefined {
    return this.processes.get(id)?.pid;
  }

  running(): string[] {
    return [...this.processes].filter(([, p]) => p.running).map(([id]) => id);
  }

  logTail(id: string): string {
    return this.processes.get(id)?.logTail() ?? '';
  }

  status(id: string, timeoutMs = 2_000): Promise<KvNodeStatus> {
    return this.client.status(this.http(id), timeoutMs);
  }

  /**
   * Waits until one running node leads and a majority of the running nodes follow it in its term.
   * `notId` skips a leader we know is gone (or was just deposed).
   */
  leader(timeoutMs: number, notId?: string): Promise<LeaderView> {
    return poll(
      'a leader',
      async () => {
        const ids = this.running();
        const statuses = await Promise.all(ids.map((id) => this.status(id, 1_000).catch(() => undefined)));
        const leaders = statuses.filter((s): s is KvNodeStatus => s?.role === 'leader' && s.id !== notId);
        if (leaders.length !== 1) return undefined;
        const l = leaders[0]!;
        const agree = statuses.filter((s) => s?.leader === l.id && s.term === l.term).length;
        return agree > ids.length / 2 ? { id: l.id, http: this.http(l.id), status: l } : undefined;
      },
      timeoutMs,
      25,
    );
  }

  /** Stops every process (SIGTERM, then SIGKILL after `graceMs`), closes the client and deletes the data. */
  async close(graceMs = 5_000): Promise<void> {
    try {
      await Promise.all([...this.processes.values()].map((p) => p.kill('SIGTERM', graceMs)));
    } finally {
      await this.client.close();
      await rm(this.root, { recursive: true, force: true });
    }
  }

  private member(id: string): MemberAddresses {
    const m = this.members.get(id);
    if (!m) throw new Error(`no kv-node ${id} in this cluster`);
    return m;
  }

  private async allocate(id: string): Promise<void> {
    if (this.members.has(id)) throw new Error(`kv-node ${id} already has addresses`);
    const dir = join(this.root, id);
    await mkdir(dir, { recursive: true });
    this.members.set(id, { raft: `127.0.0.1:${await freePort()}`, http: `127.0.0.1:${await freePort()}`, dir, args: [] });
  }
}

/** A port the kernel just handed out: free now, and very likely still free when the node binds it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
