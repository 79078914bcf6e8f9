/**
 * How a node comes to belong to a cluster, from what its data dir and flags say:
 *
 * - a data dir with a `node.json`: the same cluster again (Raft's log holds the membership); `--join` peers of
 *   another cluster are refused;
 * - no `--join`: a one-node cluster with a fresh random id;
 * - `--join` with `--bootstrap-expect N`: ask every address (`hello`) until N nodes, this one included, answer
 *   with no cluster yet; all of them then start Raft with the same N voters and the same cluster id (the
 *   candidate id of the lowest node id), so no node is special. A peer that answers with a cluster already
 *   formed is joined instead (or, when it lists this node as a member, adopted: a founder restarted mid-way);
 * - `--join` alone: find a member, start Raft empty, and ask the member to add this node (forwarded to the
 *   leader), `--join-attempts` times, `--join-interval` apart.
 *
 * Then the node makes sure the state records it (`node.upsert`, and `cluster.init` for founders).
 */
import { randomUUID } from 'node:crypto';
import { WireError } from '../core/errors.js';
import type { Membership } from '../raft/core/types.js';
import type { ClusterCommand } from './commands.js';
import type { WriteResult } from './handle.js';
import { writeIdentity, type NodeIdentity } from './node-identity.js';
import type { HelloSignal } from './hello-signal.js';
import type { HelloAnswer, JoinRequest } from './node.js';
import { electionTimeoutMs, type NodeOptions } from './node-options.js';
import type { RpcClient } from './rpc.js';
import type { StateReader } from './state-view.js';

const HELLO_TIMEOUT_MS = 2000;
/** Discovery asks again this often (at most `--join-interval`), until `--join-attempts` intervals have passed. */
const DISCOVERY_POLL_MS = 100;
/** Times a restarted node asks each `--join` peer for its cluster before going on without the answer. */
const REFUSAL_CHECK_ATTEMPTS = 3;
/** Registering this node in the state retries this often while there is no leader. */
const REGISTER_RETRY_MS = 200;
/** The first founder campaigns again this often while its peers may not listen for Raft yet. */
const FIRST_CAMPAIGN_RETRY_MS = 100;

export interface FormingContext {
  readonly options: NodeOptions;
  self(): HelloAnswer;
  readonly rpc: RpcClient;
  readonly identity: NodeIdentity | undefined;
  setIdentity(identity: NodeIdentity): void;
  /** Starts Raft: with the founding membership, or (undefined) from the log on disk or as a joiner. */
  startRaft(clusterId: string, membership: Membership | undefined): Promise<void>;
  write(command: ClusterCommand): Promise<WriteResult>;
  /** Campaigns now rather than at the first election timeout (see `RaftNode.campaign`). */
  campaign(): boolean;
  /** Whether this node knows a leader (itself included). */
  hasLeader(): boolean;
  view(): StateReader;
  stopped(): boolean;
  /** Hellos from nodes this one had not heard from: discovery polls again at once. */
  readonly hellos: HelloSignal;
}

type Discovery =
  | { readonly kind: 'formed'; readonly clusterId: string; readonly via: HelloAnswer }
  | { readonly kind: 'founders'; readonly clusterId: string; readonly membership: { readonly voters: Membership['voters'] } };

export async function formCluster(ctx: FormingContext): Promise<void> {
  const o = ctx.options;
  const identity = ctx.identity;
  let founder = false;
  if (identity) {
    if (o.join.length > 0) await refuseOtherCluster(ctx, identity.clusterId);
    if (identity.member) await ctx.startRaft(identity.clusterId, undefined);
    else await join(ctx, identity.clusterId, o.join);
  } else if (o.join.length === 0) {
    const clusterId = randomUUID();
    await save(ctx, { nodeId: o.nodeId, clusterId, member: true });
    await ctx.startRaft(clusterId, { voters: [{ id: o.nodeId, address: ctx.self().raftAddress }], learners: [] });
    founder = true;
    await campaignFirst(ctx);
  } else {
    const found = await discover(ctx);
    const founders = found.kind === 'founders' ? found.membership.voters : found.via.founders;
    if (founders?.some((f) => f.id === o.nodeId)) {
      // A fellow founder decided first: start with the same founding voters, so every log begins with the same entry.
      await save(ctx, { nodeId: o.nodeId, clusterId: found.clusterId, member: true, founders });
      await ctx.startRaft(found.clusterId, { voters: founders, learners: [] });
      founder = true;
      if (founders[0]?.id === o.nodeId) await campaignFirst(ctx);
    } else if (found.kind === 'formed') {
      if ([...found.via.voters, ...found.via.learners].includes(o.nodeId)) {
        // A member whose node.json was lost with its log intact, or was never written: the leader fills it in.
        await save(ctx, { nodeId: o.nodeId, clusterId: found.clusterId, member: true });
        await ctx.startRaft(found.clusterId, undefined);
      } else {
        await join(ctx, found.clusterId, [found.via.raftAddress, ...o.join]);
      }
    }
  }
  await register(ctx, founder);
}

/**
 * A lone founder, or the lowest-id one, campaigns as soon as it has started Raft instead of waiting out the first election
 * timeout (1-2 s at the default tick), which was most of the time a cluster took to form. A fellow founder may
 * not listen for Raft yet (it starts a poll later), so the campaign is repeated until a leader is known or an
 * election timeout has passed, when the ordinary timers take over. Pre-vote keeps a repeat harmless: it never
 * raises a term, and a live leader's followers refuse it.
 */
async function campaignFirst(ctx: FormingContext): Promise<void> {
  const deadline = Date.now() + electionTimeoutMs(ctx.options);
  while (!ctx.stopped() && !ctx.hasLeader() && Date.now() < deadline) {
    ctx.campaign();
    await pause(ctx, FIRST_CAMPAIGN_RETRY_MS);
  }
}

async function save(ctx: FormingContext, identity: NodeIdentity): Promise<void> {
  await writeIdentity(ctx.options.dataDir, identity);
  ctx.setIdentity(identity);
}

async function hello(ctx: FormingContext, address: string): Promise<HelloAnswer | undefined> {
  try {
    return parseHello(await ctx.rpc.call(address, 'hello', { from: ctx.options.nodeId }, HELLO_TIMEOUT_MS));
  } catch (error) {
    ctx.options.log.debug(`hello to ${address}: ${(error as Error).message}`);
    return undefined;
  }
}

/** Asks each `--join` peer (a few times: a busy peer or event loop misses one call) which cluster it is in. */
async function refuseOtherCluster(ctx: FormingContext, clusterId: string): Promise<void> {
  for (const address of ctx.options.join) {
    for (let attempt = 1; attempt <= REFUSAL_CHECK_ATTEMPTS; attempt++) {
      const a = await hello(ctx, address);
      if (a && a.clusterId !== null && a.clusterId !== clusterId) throw otherCluster(ctx, a, clusterId);
      if (a) break;
      if (attempt < REFUSAL_CHECK_ATTEMPTS) await pause(ctx, Math.min(ctx.options.joinIntervalMs, 1000));
    }
  }
}

function otherCluster(ctx: FormingContext, peer: HelloAnswer, clusterId: string): WireError {
  return new WireError(
    'CONFLICT',
    `node ${peer.id} (${peer.raftAddress}) belongs to cluster '${peer.clusterId ?? ''}', but the data dir ${ctx.options.dataDir} is of cluster '${clusterId}'`,
    { clusterId, peerClusterId: peer.clusterId },
  );
}

async function discover(ctx: FormingContext): Promise<Discovery> {
  const o = ctx.options;
  const poll = Math.min(DISCOVERY_POLL_MS, o.joinIntervalMs);
  const deadline = Date.now() + o.joinAttempts * o.joinIntervalMs;
  for (;;) {
    if (ctx.stopped()) throw new WireError('UNAVAILABLE', 'the node stopped while looking for its cluster');
    const heard = ctx.hellos.heard;
    const self = ctx.self();
    const answers = (await Promise.all(o.join.map((a) => hello(ctx, a)))).filter((a): a is HelloAnswer => a !== undefined && a.id !== self.id);
    const formed = answers.find((a) => a.clusterId !== null);
    if (formed?.clusterId) return { kind: 'formed', clusterId: formed.clusterId, via: formed };
    if (o.bootstrapExpect > 1) {
      const seen = new Map<string, HelloAnswer>([[self.id, self]]);
      for (const a of answers) seen.set(a.id, a);
      if (seen.size > o.bootstrapExpect) {
        throw new WireError('INVALID_INPUT', `--bootstrap-expect ${o.bootstrapExpect}, but ${seen.size} nodes answered: ${[...seen.keys()].sort().join(', ')}`);
      }
      if (seen.size === o.bootstrapExpect) {
        const founders = [...seen.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        ctx.options.log.info(`forming a cluster of ${founders.map((f) => f.id).join(', ')}`);
        return {
          kind: 'founders',
          clusterId: founders[0]!.candidate,
          membership: { voters: founders.map((f) => ({ id: f.id, address: f.raftAddress })) },
        };
      }
    }
    if (Date.now() + poll > deadline) {
      const what = o.bootstrapExpect > 1 ? `${o.bootstrapExpect} nodes to form a cluster` : 'a cluster to join';
      throw new WireError('UNAVAILABLE', `found no ${what} at ${o.join.join(', ')} after ${o.joinAttempts} attempts`, { join: o.join });
    }
    await ctx.hellos.wait(poll, heard);
  }
}

async function join(ctx: FormingContext, clusterId: string, addresses: readonly string[]): Promise<void> {
  const o = ctx.options;
  await save(ctx, { nodeId: o.nodeId, clusterId, member: false });
  await ctx.startRaft(clusterId, undefined);
  const self = ctx.self();
  const request: JoinRequest = { clusterId, id: self.id, raftAddress: self.raftAddress, httpAddress: self.httpAddress, voter: !o.nonVoter, labels: o.labels, ...(o.joinToken === undefined ? {} : { joinToken: o.joinToken }) };
  let last: Error | undefined;
  for (let attempt = 1; attempt <= o.joinAttempts; attempt++) {
    for (const address of new Set(addresses)) {
      if (ctx.stopped()) throw new WireError('UNAVAILABLE', 'the node stopped while joining');
      try {
        // Adding a voter waits for it to catch up, which may take a snapshot transfer.
        await ctx.rpc.call(address, 'join', request, 60_000);
        await save(ctx, { nodeId: o.nodeId, clusterId, member: true });
        o.log.info(`joined cluster ${clusterId} through ${address} as a ${o.nonVoter ? 'learner' : 'voter'}`);
        return;
      } catch (error) {
        if (error instanceof WireError && (error.code === 'CONFLICT' || error.code === 'INVALID_INPUT')) throw error;
        last = error as Error;
        o.log.warn(`join through ${address} (attempt ${attempt} of ${o.joinAttempts}): ${last.message}`);
      }
    }
    if (attempt < o.joinAttempts) await pause(ctx, o.joinIntervalMs);
  }
  throw new WireError('UNAVAILABLE', `could not join through ${addresses.join(', ')} after ${o.joinAttempts} attempts: ${last?.message ?? ''}`);
}

/** Makes sure the state has the cluster (founders) and this node's record as it is now. */
async function register(ctx: FormingContext, founder: boolean): Promise<void> {
  const o = ctx.options;
  const clusterId = ctx.self().clusterId;
  if (clusterId === null) throw new WireError('INTERNAL', 'registering a node that has no cluster');
  while (!ctx.stopped()) {
    const state = ctx.view();
    const self = ctx.self();
    if (!self.voters.includes(self.id) && !self.learners.includes(self.id)) {
      // Not in the membership (yet, for a joiner whose log has not caught up; or no longer, for a removed node,
      // which must not put its record back).
      await pause(ctx, REGISTER_RETRY_MS);
      continue;
    }
    const role = self.voters.includes(self.id) ? 'voter' : 'learner';
    const rec = state.node(self.id);
    const current = rec && rec.raftAddress === self.raftAddress && rec.httpAddress === self.httpAddress && rec.role === role && sameLabels(rec.labels, o.labels);
    if (current) return;
    try {
      if (!state.cluster()) {
        // A joiner or restarted member gets the cluster's record from the leader; only founders create it.
        if (founder) await ctx.write({ v: 1, type: 'cluster.init', id: clusterId, at: Date.now() });
        else await pause(ctx, REGISTER_RETRY_MS);
        continue;
      }
      await ctx.write({ v: 1, type: 'node.upsert', node: { id: self.id, raftAddress: self.raftAddress, httpAddress: self.httpAddress, role, labels: { ...o.labels } }, at: Date.now() });
    } catch (error) {
      const transient = error instanceof WireError && ['UNAVAILABLE', 'TIMEOUT', 'NOT_LEADER'].includes(error.code);
      if (!transient) throw error;
      o.log.debug(`registering ${self.id} in the cluster state: ${(error as Error).message}`);
      await pause(ctx, REGISTER_RETRY_MS);
    }
  }
}

function sameLabels(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function parseHello(v: unknown): HelloAnswer {
  const o = (v ?? {}) as Record<string, unknown>;
  const strings = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');
  if (
    typeof o.id !== 'string' ||
    typeof o.raftAddress !== 'string' ||
    typeof o.httpAddress !== 'string' ||
    typeof o.candidate !== 'string' ||
    !(o.founders === null || (Array.isArray(o.founders) && o.founders.every((f: { id?: unknown; address?: unknown } | null) => typeof f?.id === 'string' && typeof f.address === 'string'))) ||
    !(o.clusterId === null || typeof o.clusterId === 'string') ||
    !strings(o.voters) ||
    !strings(o.learners)
  ) {
    throw new WireError('INVALID_INPUT', 'a peer answered hello with a malformed answer');
  }
  return o as unknown as HelloAnswer;
}

/** Waits `ms`, or less once the node is stopping (so closing a node never waits out a join interval). */
async function pause(ctx: FormingContext, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!ctx.stopped() && Date.now() < end) await new Promise((r) => setTimeout(r, Math.min(100, end - Date.now())));
}
