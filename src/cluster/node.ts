/**
 * A Wire node: the replicated state machine (`fsm.ts`) driven by Raft, the node port (Raft and cluster RPC on
 * one listener), forming or joining a cluster (`forming.ts`), and the `ClusterHandle` the HTTP API serves.
 * `startNode` resolves once the node port listens and the state is open; forming goes on in the background
 * (`ready()` says when the node is a member with a leader).
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { WireError } from '../core/errors.js';
import type { Membership } from '../raft/core/types.js';
import { NotLeaderError, RaftError } from '../raft/errors.js';
import { RaftNode } from '../raft/node.js';
import type { WireMessage } from '../raft/snapshot/install-messages.js';
import { openDiskStorage } from '../raft/storage/disk-storage.js';
import { TcpTransport } from '../raft/transport/tcp.js';
import { systemClock } from '../raft/clock.js';
import { NodeTasks } from './agent/node-tasks.js';
import { taskStatuses, type TaskStatus } from './agent/task-status.js';
import { outcomeOf } from './apply-result.js';
import { encodeCommand, parseCommand, type ClusterCommand } from './commands.js';
import { ClusterStateMachine } from './fsm.js';
import { formCluster } from './forming.js';
import { HelloSignal } from './hello-signal.js';
import { LeaderState } from './leader-state.js';
import type { ClusterHandle, ClusterStatus, MemberStatus, NodeRoleName, Readiness, ReadOptions, WriteOptions, WriteResult } from './handle.js';
import { readIdentity, type NodeIdentity } from './node-identity.js';
import { nodeMetrics } from './node-metrics.js';
import { electionTimeoutMs, type NodeOptions, type NodeTls } from './node-options.js';
import { NodePort } from './node-port.js';
import { PeerProbe } from './peer-probe.js';
import { RpcClient, type RpcPeer } from './rpc.js';
import { checkJoinCaller } from './tls-peer.js';
import type { StateReader } from './state-view.js';
import { taskNodeOf } from './tasks/task-locator.js';
import { rpcLeadershipCheck } from './tasks/leadership-check.js';
import type { Registry } from 'prom-client';
import { checkJoinToken } from '../security/auth-join.js';

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Election timeouts a stopping leader waits for its handover. */
const HANDOVER_TIMEOUTS = 1.5;
/** While no leader is known, a write waits for one this often. */
const LEADER_POLL_MS = 50;

/** The node's answer to `hello`: what discovery, joiners and `--bootstrap-expect` peers learn of it. */
export interface HelloAnswer {
  readonly id: string;
  readonly raftAddress: string;
  readonly httpAddress: string;
  /** Null until this node belongs to a cluster. */
  readonly clusterId: string | null;
  /** The cluster id this node proposes if it founds one with `--bootstrap-expect` (lowest node id's wins). */
  readonly candidate: string;
  readonly voters: readonly string[];
  readonly learners: readonly string[];
  /** The founding voters of its cluster, if this node was one of them (see `forming.ts`). */
  readonly founders: ReadonlyArray<{ readonly id: string; readonly address: string }> | null;
}

export interface JoinRequest {
  readonly clusterId: string;
  readonly id: string;
  readonly raftAddress: string;
  readonly httpAddress: string;
  readonly voter: boolean;
  readonly labels: Readonly<Record<string, string>>;
  readonly joinToken?: string;
}

export interface RunningNode extends ClusterHandle {
  /** The node port's address as peers reach it. */
  readonly raftAddress: string;
  /** New node-port certificates (a rotation) for every connection made from now on, in and out. */
  reloadTls(tls: NodeTls): void;
  /** Stops the node: a leader first hands over (with `shutdownStepdown` and another voter up). */
  close(): Promise<void>;
  /** The node running `pipeline`'s task, as this node's state says (the ingest route's `TaskLocator`). */
  taskNodeOf(pipeline: string): { nodeId: string; httpAddress: string } | null;
}

export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const identity = await readIdentity(options.dataDir);
  if (identity && identity.nodeId !== options.nodeId) {
    throw new WireError(
      'CONFLICT',
      `the data dir ${options.dataDir} belongs to node '${identity.nodeId}', not '${options.nodeId}' (give --node-id ${identity.nodeId}, or another --data-dir)`,
      { dataDir: options.dataDir, nodeId: identity.nodeId },
    );
  }
  const fsm = await ClusterStateMachine.open({ dir: path.join(options.dataDir, 'fsm') });
  let port: NodePort;
  try {
    const stateCluster = fsm.view().cluster()?.id;
    if (identity && stateCluster !== undefined && stateCluster !== identity.clusterId) {
      throw new WireError('CONFLICT', `the data dir ${options.dataDir} is damaged: its state is of cluster '${stateCluster}', its node.json of '${identity.clusterId}'`);
    }
    port = await NodePort.listen({ host: options.raftHost, port: options.raftPort, tls: options.tls?.server, onError: (e) => options.log.debug(`node port: ${e.message}`) });
  } catch (error) {
    await fsm.close();
    throw error;
  }
  const node = new WireNode(options, fsm, port, identity);
  port.serveRpc((method, params, peer) => node.serve(method, params, peer));
  node.startForming();
  return node;
}

class WireNode implements RunningNode {
  readonly id: string;
  readonly raftAddress: string;
  readonly metrics: Registry;
  private raft: RaftNode | undefined;
  private transport: TcpTransport<WireMessage> | undefined;
  private tls: NodeTls | undefined;
  private readonly rpc: RpcClient;
  private readonly probe: PeerProbe;
  private readonly hellos: HelloSignal;
  private readonly candidate = randomUUID();
  private readonly timeoutMs: number;
  private stopping: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private forming: Promise<void> | undefined;
  private formingError: Error | undefined;
  /** Writes waiting for this node to apply their index, and the RaftNode whose 'applied' events settle them. */
  private readonly appliedWaiters = new Set<{ readonly index: number; readonly settle: () => void }>();
  private appliedSource: RaftNode | undefined;
  /** The advertised HTTP address, once known (see `learnHttpAddress`). */
  private httpAddress: string | undefined;
  /** The node's agent and, while it leads, the task controller (`agent/node-tasks.ts`). */
  private nodeTasks: NodeTasks | undefined;
  /** Whether this leader's state holds everything committed: rules that refuse are checked on it (`leader-state.ts`). */
  private readonly leaderState = new LeaderState(
    () => this.requireRaft().status(),
    (index, timeoutMs) => this.waitApplied(index, timeoutMs),
  );

  constructor(
    private readonly options: NodeOptions,
    private readonly fsm: ClusterStateMachine,
    private readonly port: NodePort,
    private identity: NodeIdentity | undefined,
  ) {
    this.id = options.nodeId;
    this.raftAddress = options.raftAdvertise ?? port.boundAddress;
    this.timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.tls = options.tls;
    this.rpc = new RpcClient({ tls: options.tls?.client });
    this.probe = new PeerProbe(this.rpc, () => this.peerAddresses());
    this.hellos = new HelloSignal(this.id);
    this.metrics = nodeMetrics(() => this.status(), () => this.raft?.status(), options.metrics);
  }

  startForming(): void {
    this.forming = this.learnHttpAddress().then(() => formCluster({
      options: this.options,
      self: () => this.hello(),
      rpc: this.rpc,
      identity: this.identity,
      setIdentity: (i) => {
        this.identity = i;
      },
      startRaft: (clusterId, membership) => this.startRaft(clusterId, membership),
      write: (command) => this.write(command),
      campaign: () => this.raft?.campaign() ?? false,
      hasLeader: () => (this.raft?.status().leader ?? null) !== null,
      view: () => this.fsm.view(),
      stopped: () => this.stopping !== undefined,
      hellos: this.hellos,
    })).catch((error: unknown) => {
      this.formingError = error as Error;
      if (this.stopping) return;
      this.options.log.warn(`cannot form or join a cluster: ${(error as Error).message}`);
      this.options.onFatal?.(error as Error);
    });
  }

  /** Nothing announces this node before its HTTP address is the one its API is bound to. */
  private async learnHttpAddress(): Promise<void> {
    this.httpAddress = await this.options.httpAdvertise;
  }

  private async startRaft(clusterId: string, membership: Membership | undefined): Promise<void> {
    if (this.stopping) throw new WireError('UNAVAILABLE', 'the node is stopping');
    const storage = await openDiskStorage(path.join(this.options.dataDir, 'raft'));
    const transport = TcpTransport.attach<WireMessage>({
      nodeId: this.id,
      clusterId,
      advertise: this.raftAddress,
      tls: this.tls ? { server: this.tls.server, client: this.tls.client } : undefined,
      backoffInitialMs: 20,
      backoffMaxMs: 500,
      onError: (err, peer) => this.options.log.debug(`raft transport (${peer ?? 'unknown peer'}): ${err.message}`),
    });
    this.port.attachRaft(transport);
    this.transport = transport;
    const threshold = this.options.snapshotThreshold;
    const raft = await RaftNode.start({
      id: this.id,
      address: this.raftAddress,
      membership,
      join: membership === undefined,
      storage,
      transport,
      stateMachine: this.fsm,
      snapshotThreshold: threshold,
      // The log kept behind a snapshot for slow followers is bounded by the threshold too.
      trailingEntries: Math.min(1000, threshold),
      tickMs: this.options.tickMs,
      electionTicks: this.options.electionTicks,
      requestTimeoutMs: this.timeoutMs,
      onError: (err) => this.options.log.debug(`raft: ${err.message}`),
    });
    raft.on('leaderChange', (leader, term) => this.options.log.info(`leader is ${leader ?? 'unknown'} (term ${term})`));
    raft.on('fatal', (err) => {
      this.options.log.warn(`raft stopped: ${err.message}`);
      this.options.onFatal?.(err);
    });
    this.raft = raft;
    this.probe.start();
    if (this.options.tasks) this.startTasks(raft, this.options.tasks);
  }

  private startTasks(raft: RaftNode, options: NonNullable<NodeOptions['tasks']>): void {
    const tasks = new NodeTasks({
      nodeId: this.id,
      options,
      clock: systemClock,
      state: () => this.fsm.view(),
      log: this.options.log,
      rpc: this.rpc,
      raft: () => raft.status(),
      confirmLeader: rpcLeadershipCheck(this.id, () => raft.status(), this.rpc, this.timeoutMs),
      stateShape: () => this.fsm.shapeVersion(),
      write: async (command) => (await this.write(command)).result,
      metrics: this.metrics,
    });
    this.nodeTasks = tasks;
    raft.on('applied', () => tasks.applied());
    tasks.start();
  }

  reloadTls(tls: NodeTls): void {
    this.port.reloadTls(tls.server);
    this.tls = tls;
    this.transport?.reloadTls(tls);
    this.rpc.reloadTls(tls.client);
  }

  hello(): HelloAnswer {
    if (this.httpAddress === undefined) throw new WireError('UNAVAILABLE', `node ${this.id} is starting (its HTTP API is not listening yet)`);
    const m = this.raft?.status().membership;
    return {
      id: this.id,
      raftAddress: this.raftAddress,
      httpAddress: this.httpAddress,
      clusterId: this.identity?.clusterId ?? null,
      candidate: this.candidate,
      voters: m?.voters.map((v) => v.id) ?? [],
      learners: m?.learners.map((v) => v.id) ?? [],
      founders: this.identity?.founders ?? null,
    };
  }

  /** The cluster RPC server: what other nodes ask of this one. */
  async serve(method: string, params: unknown, peer: RpcPeer = { nodeIds: null }): Promise<unknown> {
    const p = (params ?? {}) as Record<string, unknown>;
    switch (method) {
      case 'hello':
        this.hellos.hello(p.from);
        return this.hello();
      case 'ping':
        return this.hello();
      case 'write': {
        const command = parseCommand(p.command);
        return this.proposeHere(command, boundedTimeout(p.timeoutMs, this.timeoutMs));
      }
      case 'join': {
        const request = parseJoinRequest(params);
        checkJoinCaller(peer, request.id, (id) => this.isMember(id));
        return this.acceptJoin(request);
      }
      case 'remove':
        if (typeof p.id !== 'string') throw new WireError('INVALID_INPUT', 'remove: id must be a string', { field: 'id' });
        await this.removeHere(p.id);
        return {};
      case 'transfer':
        return this.transferHere(typeof p.to === 'string' ? p.to : undefined);
      default: {
        const answer = this.nodeTasks?.serve(method, p);
        if (answer) return answer;
        throw new WireError('INVALID_INPUT', `unknown cluster RPC method '${method}'`, { method });
      }
    }
  }

  status(): ClusterStatus {
    const raft = this.raft;
    const clusterId = this.identity?.clusterId ?? null;
    if (!raft) {
      const role: NodeRoleName = this.stopping ? 'stopped' : 'joining';
      return { id: this.id, role, leaderId: null, leaderHttp: null, term: 0, commitIndex: 0, appliedIndex: this.fsm.appliedIndex(), clusterId, members: [] };
    }
    const s = raft.status();
    const records = new Map(this.fsm.view().nodes().map((n) => [n.id, n]));
    const member = (id: string, raftAddress: string, voter: boolean): MemberStatus => ({
      id,
      raftAddress,
      httpAddress: records.get(id)?.httpAddress ?? '',
      voter,
      reachable: id === this.id || this.probe.reachable(id),
      leader: id === s.leader,
    });
    const members = [...s.membership.voters.map((m) => member(m.id, m.address, true)), ...s.membership.learners.map((m) => member(m.id, m.address, false))];
    const learner = s.membership.learners.some((m) => m.id === this.id);
    const role: NodeRoleName = this.stopping ? 'stopped' : s.role === 'preCandidate' ? 'candidate' : s.role === 'follower' && learner ? 'learner' : s.role;
    return {
      id: this.id,
      role,
      leaderId: s.leader,
      leaderHttp: s.leader === null ? null : (records.get(s.leader)?.httpAddress ?? null),
      term: s.term,
      commitIndex: s.commit,
      appliedIndex: s.applied,
      clusterId,
      members,
    };
  }

  async write(command: ClusterCommand, options: WriteOptions = {}): Promise<WriteResult> {
    const raft = this.requireRaft();
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    // The shape is checked here; the state's rules by the leader before it proposes (a follower's state may lag:
    // a pipeline just created through another node would look missing here).
    const checked = parseCommand(command);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = raft.status();
      if (s.role === 'leader') return this.proposeHere(checked, Math.max(1, deadline - Date.now()));
      if (options.redirect) throw this.notLeader(s.leader);
      if (s.leader !== null && s.leaderAddress !== null) {
        try {
          const r = (await this.rpc.call(s.leaderAddress, 'write', { command: checked, timeoutMs: Math.max(1, deadline - Date.now()) }, Math.max(1, deadline - Date.now()) + 1000)) as WriteResult;
          await this.waitApplied(r.index, Math.max(1, deadline - Date.now()));
          return r;
        } catch (error) {
          // Only NOT_LEADER proves the command was not proposed; anything else may have been, so it is not retried.
          if (!(error instanceof WireError && error.code === 'NOT_LEADER')) throw error;
        }
      }
      if (Date.now() + LEADER_POLL_MS > deadline) throw new WireError('UNAVAILABLE', `no leader answered within ${timeoutMs} ms`, { leaderId: s.leader });
      await sleep(LEADER_POLL_MS);
    }
  }

  async read<T>(fn: (state: StateReader) => T, options: ReadOptions = {}): Promise<T> {
    if (options.consistent) {
      try {
        await this.requireRaft().readIndex(this.timeoutMs);
      } catch (error) {
        throw this.raftError(error, 'a consistent read');
      }
    }
    return fn(this.fsm.view());
  }

  async backup(options: ReadOptions = {}): Promise<AsyncIterable<Uint8Array>> {
    // The read transaction is pinned after the read index is applied: nothing acknowledged before is missing.
    const stream = await this.read(() => this.fsm.snapshot(), options);
    const log = this.options.log;
    return (async function* reported() {
      try {
        yield* stream;
      } catch (error) {
        // The client only sees its download cut short; the reason is told here.
        log.warn(`a backup was cut short: ${(error as Error).message}`);
        throw error;
      }
    })();
  }

  async removeNode(id: string): Promise<void> {
    await this.onLeader('remove', { id }, () => this.removeHere(id));
  }

  async transferLeader(to?: string): Promise<string> {
    return (await this.onLeader('transfer', to === undefined ? {} : { to }, () => this.transferHere(to))) as string;
  }

  taskNodeOf(pipeline: string): { nodeId: string; httpAddress: string } | null {
    return taskNodeOf(this.fsm.view(), pipeline);
  }

  async tasks(pipeline: string): Promise<TaskStatus[]> {
    const stats = (await this.nodeTasks?.allStats()) ?? {};
    return taskStatuses(this.fsm.view(), pipeline, (n) => stats[n] ?? []);
  }

  ready(): Readiness {
    const s = this.status();
    const view = this.fsm.view();
    const formed = view.cluster() !== undefined;
    const registered = view.node(this.id) !== undefined;
    const checks = [
      { name: 'node', ok: this.raft !== undefined && !this.stopping, detail: this.formingError?.message ?? (this.raft ? `${s.role}, term ${s.term}` : 'forming or joining the cluster') },
      { name: 'leader', ok: s.leaderId !== null, detail: s.leaderId === null ? 'no leader known' : `leader is ${s.leaderId}` },
      // Ready means registered: the cluster's record and this node's own are in the state it serves (a one-node
      // cluster writes them one after the other, so 'cluster' alone let a read of the nodes come back empty).
      { name: 'store', ok: s.clusterId !== null && formed && registered, detail: `applied index ${s.appliedIndex}${formed && !registered ? ', this node not registered yet' : ''}` },
    ];
    return { ok: checks.every((c) => c.ok), checks };
  }

  close(): Promise<void> {
    // A clean leave first: every task stops at a checkpoint and is released while this node can still write.
    this.closing ??= (this.nodeTasks?.leave() ?? Promise.resolve())
      .catch((error: unknown) => this.options.log.warn(`could not hand over every task: ${(error as Error).message}`))
      .then(() => (this.stopping ??= this.shutdown()));
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const raft = this.raft;
    this.nodeTasks?.close();
    if (raft && this.options.shutdownStepdown && raft.status().role === 'leader') {
      const others = this.status().members.filter((m) => m.voter && m.id !== this.id && m.reachable);
      if (others.length > 0) {
        try {
          // Raft abandons a transfer after an election timeout; a peer that died since it last answered a probe
          // must not hold the shutdown longer than that (and a little for the new leader's word to arrive).
          const to = await raft.transferLeadership(undefined, Math.min(this.timeoutMs, HANDOVER_TIMEOUTS * electionTimeoutMs(this.options)));
          this.options.log.info(`handed leadership to ${to}`);
        } catch (error) {
          this.options.log.warn(`could not hand over leadership before stopping: ${(error as Error).message}`);
        }
      }
    }
    this.probe.stop();
    this.rpc.close();
    await raft?.stop();
    await this.forming;
    await this.port.close();
    await this.fsm.close();
  }

  private isMember(id: string): boolean {
    const m = this.raft?.status().membership;
    return m !== undefined && [...m.voters, ...m.learners].some((x) => x.id === id);
  }

  private peerAddresses(): Array<{ id: string; address: string }> {
    const m = this.raft?.status().membership;
    if (!m) return [];
    return [...m.voters, ...m.learners].filter((x) => x.id !== this.id).map((x) => ({ id: x.id, address: x.address }));
  }

  private requireRaft(): RaftNode {
    if (this.stopping) throw new WireError('UNAVAILABLE', 'the node is stopping');
    if (!this.raft) throw new WireError('UNAVAILABLE', 'the node has not joined a cluster yet', { node: this.id });
    return this.raft;
  }

  private notLeader(leader: string | null): WireError {
    const leaderHttp = leader === null ? null : (this.fsm.view().node(leader)?.httpAddress ?? null);
    return new WireError('NOT_LEADER', leader === null ? 'this node is not the leader and no leader is known' : `this node is not the leader; the leader is ${leader}`, {
      leaderId: leader,
      leaderHttp,
    });
  }

  /** Proposes on this node, which must lead; resolves once applied here. */
  private async proposeHere(command: ClusterCommand, timeoutMs: number): Promise<WriteResult> {
    const raft = this.requireRaft();
    if (raft.status().role !== 'leader') throw this.notLeader(raft.status().leader);
    const checked = await this.leaderState.check(() => this.fsm.validate(command), timeoutMs);
    let outcome;
    try {
      outcome = await raft.propose(encodeCommand(checked), timeoutMs);
    } catch (error) {
      throw this.raftError(error, `${checked.type}`);
    }
    return { index: outcome.index, result: outcomeOf(outcome.result), servedBy: this.id };
  }

  /** Runs `here` on the leader: on this node when it leads, else through the RPC. */
  private async onLeader(method: string, params: Record<string, unknown>, here: () => Promise<unknown>): Promise<unknown> {
    const s = this.requireRaft().status();
    if (s.role === 'leader') return here();
    if (s.leaderAddress === null) throw new WireError('UNAVAILABLE', 'no leader is known', { node: this.id });
    return this.rpc.call(s.leaderAddress, method, params, this.timeoutMs + 1000);
  }

  private async acceptJoin(req: JoinRequest): Promise<{ clusterId: string }> {
    const clusterId = this.identity?.clusterId;
    if (clusterId === undefined) throw new WireError('UNAVAILABLE', `node ${this.id} has not formed or joined a cluster yet`);
    if (req.clusterId !== clusterId) {
      throw new WireError('CONFLICT', `node ${req.id} asked to join cluster '${req.clusterId}', this is cluster '${clusterId}'`, { clusterId });
    }
    const raft = this.requireRaft();
    const s = raft.status();
    if (s.role !== 'leader') {
      if (s.leaderAddress === null) throw new WireError('UNAVAILABLE', 'no leader is known');
      return (await this.rpc.call(s.leaderAddress, 'join', req, this.timeoutMs * 3)) as { clusterId: string };
    }
    // A node port with mutual TLS admitted the joiner by its certificate already.
    if (!this.options.tls) await this.leaderState.check(() => checkJoinToken(req.joinToken, (id) => this.fsm.view().token(id), Date.now()), this.timeoutMs);
    const voter = s.membership.voters.find((m) => m.id === req.id);
    const learner = s.membership.learners.find((m) => m.id === req.id);
    const existing = voter ?? learner;
    if (existing && existing.address !== req.raftAddress) {
      throw new WireError('CONFLICT', `node id '${req.id}' is already a member at ${existing.address} (remove it first: wire cluster remove ${req.id})`, { node: req.id });
    }
    try {
      if (!existing) await raft.addLearner({ id: req.id, address: req.raftAddress });
      if (req.voter && !voter) await raft.promote(req.id, this.timeoutMs * 2);
    } catch (error) {
      throw this.raftError(error, `adding ${req.id}`);
    }
    const role = req.voter ? 'voter' : 'learner';
    await this.proposeHere(
      { v: 1, type: 'node.upsert', node: { id: req.id, raftAddress: req.raftAddress, httpAddress: req.httpAddress, role, labels: { ...req.labels } }, at: Date.now() },
      this.timeoutMs,
    );
    this.options.log.info(`${req.id} joined as a ${role}`);
    return { clusterId };
  }

  private async removeHere(id: string): Promise<void> {
    const raft = this.requireRaft();
    await this.leaderState.caughtUp(this.timeoutMs);
    const m = raft.status().membership;
    const inRaft = [...m.voters, ...m.learners].some((x) => x.id === id);
    const inState = this.fsm.view().node(id) !== undefined;
    if (!inRaft && !inState) throw new WireError('NOT_FOUND', `node '${id}' is not a member`, { node: id });
    if (inRaft) {
      try {
        await raft.removeServer(id, this.timeoutMs);
      } catch (error) {
        throw this.raftError(error, `removing ${id}`);
      }
    }
    // A leader that removed itself has handed over: the record goes through the new leader.
    if (inState) await this.write({ v: 1, type: 'node.remove', id, at: Date.now() });
  }

  private async transferHere(to: string | undefined): Promise<string> {
    try {
      return await this.requireRaft().transferLeadership(to, this.timeoutMs);
    } catch (error) {
      throw this.raftError(error, 'the leadership transfer');
    }
  }

  /** Resolves once this node applied `index`; every waiting write shares one 'applied' listener. */
  private waitApplied(index: number, timeoutMs: number): Promise<void> {
    const raft = this.requireRaft();
    if (raft.status().applied >= index) return Promise.resolve();
    if (this.appliedSource !== raft) {
      this.appliedSource = raft;
      raft.on('applied', (applied) => {
        for (const w of this.appliedWaiters) if (applied >= w.index) w.settle();
      });
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        index,
        settle: () => {
          clearTimeout(timer);
          this.appliedWaiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.appliedWaiters.delete(waiter);
        reject(new WireError('TIMEOUT', `index ${index} committed but not applied on ${this.id} within ${timeoutMs} ms`, { index }));
      }, timeoutMs);
      this.appliedWaiters.add(waiter);
    });
  }

  /** Raft's errors as the WireErrors a user sees. */
  private raftError(error: unknown, what: string): Error {
    if (error instanceof WireError) return error;
    if (error instanceof NotLeaderError) return this.notLeader(error.leaderId);
    if (error instanceof RaftError) {
      const code = error.code === 'TIMEOUT' ? 'TIMEOUT' : error.code === 'INVALID_ARGUMENT' ? 'INVALID_INPUT' : 'UNAVAILABLE';
      return new WireError(code, `${what}: ${error.message}`, { raft: error.code }, error);
    }
    return error as Error;
  }
}

function parseJoinRequest(v: unknown): JoinRequest {
  const o = (v ?? {}) as Record<string, unknown>;
  const str = (k: string): string => {
    const x = o[k];
    if (typeof x !== 'string' || x.length === 0 || x.length > 300) throw new WireError('INVALID_INPUT', `join: ${k} must be a non-empty string`, { field: k });
    return x;
  };
  const labels = o.labels;
  if (typeof labels !== 'object' || labels === null || Object.values(labels).some((x) => typeof x !== 'string')) {
    throw new WireError('INVALID_INPUT', 'join: labels must map names to strings', { field: 'labels' });
  }
  return {
    clusterId: str('clusterId'),
    id: str('id'),
    raftAddress: str('raftAddress'),
    httpAddress: str('httpAddress'),
    voter: o.voter === true,
    labels: labels as Record<string, string>,
    ...(typeof o.joinToken === 'string' ? { joinToken: o.joinToken } : {}),
  };
}

function boundedTimeout(v: unknown, max: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.min(v, max) : max;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
