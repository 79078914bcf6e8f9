/**
 * What each command does to the state, as a pure function of (state, command): the writes to make and
 * what to answer, or the error that rejects it. Applying runs it inside the write transaction, the API
 * runs it on the current state before proposing (`validate`): one set of rules for both.
 * It reads no clock and draws no random number, so every node turns the same entry into the same writes.
 */
import { WireError, type ErrorCode, type ErrorDetails } from '../core/errors.js';
import type { ClusterCommand, CommandOf } from './commands.js';
import { KEYSPACES, type KeyspaceName, type StateKey } from './keyspaces.js';
import { STATE_FORMAT_VERSION, type ClusterRecord, type NodeRecord, type PipelineRecord, type PipelineVersionRecord } from './records.js';
import { versionKey, type StateReader } from './state-view.js';
import { forgetTasks, planTaskCommand, type TaskOutcome } from './tasks/task-transitions.js';
import { appendAudit, createToken, revokeToken, withAuditEntry } from './auth-transitions.js';
import type { TokenRecord } from '../security/auth-tokens.js';

/** A put (`value` set) or a delete (`value` undefined) of one key. */
export interface StateWrite {
  readonly keyspace: KeyspaceName;
  readonly key: StateKey;
  readonly value?: unknown;
}

/** What an applied command answers its proposer. */
export type CommandOutcome =
  | { readonly kind: 'cluster'; readonly cluster: ClusterRecord }
  | { readonly kind: 'node'; readonly node: NodeRecord }
  | { readonly kind: 'nodeRemoved'; readonly id: string }
  | { readonly kind: 'pipeline'; readonly pipeline: PipelineRecord }
  | { readonly kind: 'pipelineDeleted'; readonly name: string; readonly version: number }
  | TaskOutcome
  | { readonly kind: 'token'; readonly token: TokenRecord }
  | { readonly kind: 'audited'; readonly count: number };

export type Plan = { readonly ok: true; readonly writes: readonly StateWrite[]; readonly outcome: CommandOutcome } | { readonly ok: false; readonly error: WireError };

const reject = (code: ErrorCode, message: string, details: ErrorDetails = {}): Plan => ({ ok: false, error: new WireError(code, message, details) });
const accept = (outcome: CommandOutcome, writes: readonly StateWrite[] = []): Plan => ({ ok: true, writes, outcome });

export function planCommand(state: StateReader, command: ClusterCommand): Plan {
  return withAuditEntry(state, command, planUnaudited(state, command));
}

function planUnaudited(state: StateReader, command: ClusterCommand): Plan {
  if (command.type === 'cluster.init') return initCluster(state, command);
  if (!state.cluster()) return reject('CONFLICT', `${command.type}: the cluster is not initialized`, { type: command.type });
  switch (command.type) {
    case 'node.upsert':
      return upsertNode(command);
    case 'node.remove':
      return removeNode(state, command);
    case 'pipeline.create':
      return createPipeline(state, command);
    case 'pipeline.replace':
      return replacePipeline(state, command);
    case 'pipeline.delete':
      return deletePipeline(state, command);
    case 'pipeline.setDesired':
      return setDesired(state, command);
    case 'pipeline.rollback':
      return rollback(state, command);
    case 'task.assign':
    case 'task.drain':
    case 'task.release':
    case 'task.remove':
    case 'checkpoint.commit':
      return planTaskCommand(state, command);
    case 'token.create':
      return createToken(state, command);
    case 'token.revoke':
      return revokeToken(state, command);
    case 'audit.append':
      return appendAudit(state, command);
  }
}

function initCluster(state: StateReader, c: CommandOf<'cluster.init'>): Plan {
  const existing = state.cluster();
  // The same init again (a retry after a lost answer) succeeds and changes nothing.
  if (existing) {
    return existing.id === c.id
      ? accept({ kind: 'cluster', cluster: existing })
      : reject('CONFLICT', `this state belongs to cluster '${existing.id}', not '${c.id}'`, { cluster: existing.id });
  }
  const cluster: ClusterRecord = { id: c.id, version: STATE_FORMAT_VERSION, createdAt: c.at };
  return accept({ kind: 'cluster', cluster }, [{ keyspace: KEYSPACES.cluster, key: 'cluster', value: cluster }]);
}

function upsertNode(c: CommandOf<'node.upsert'>): Plan {
  const node: NodeRecord = { ...c.node, updatedAt: c.at };
  return accept({ kind: 'node', node }, [{ keyspace: KEYSPACES.nodes, key: node.id, value: node }]);
}

function removeNode(state: StateReader, c: CommandOf<'node.remove'>): Plan {
  if (!state.node(c.id)) return reject('NOT_FOUND', `node '${c.id}' is not a member`, { node: c.id });
  return accept({ kind: 'nodeRemoved', id: c.id }, [{ keyspace: KEYSPACES.nodes, key: c.id }]);
}

function pipelineNotFound(name: string): Plan {
  return reject('NOT_FOUND', `pipeline '${name}' does not exist`, { pipeline: name });
}

/** A spec that names itself must name the pipeline it is stored under. */
function specNameProblem(name: string, spec: Readonly<Record<string, unknown>>): Plan | undefined {
  if (spec['name'] === undefined || spec['name'] === name) return undefined;
  return reject('INVALID_INPUT', `spec.name '${String(spec['name'])}' differs from the pipeline name '${name}'`, { field: 'spec.name' });
}

function versionConflict(p: PipelineRecord, ifVersion: number | undefined): Plan | undefined {
  if (ifVersion === undefined || ifVersion === p.version) return undefined;
  return reject('CONFLICT', `pipeline '${p.name}' is at version ${p.version}, not ${ifVersion}`, { pipeline: p.name, version: p.version, expected: ifVersion });
}

function newVersion(p: PipelineRecord, v: PipelineVersionRecord, writes: StateWrite[] = []): Plan {
  writes.push({ keyspace: KEYSPACES.pipelines, key: p.name, value: p }, { keyspace: KEYSPACES.pipelineVersions, key: versionKey(p.name, v.version), value: v });
  return accept({ kind: 'pipeline', pipeline: p }, writes);
}

function createPipeline(state: StateReader, c: CommandOf<'pipeline.create'>): Plan {
  const bad = specNameProblem(c.name, c.spec);
  if (bad) return bad;
  const existing = state.pipeline(c.name);
  if (existing) return reject('CONFLICT', `pipeline '${c.name}' already exists (version ${existing.version})`, { pipeline: c.name, version: existing.version });
  const pipeline: PipelineRecord = { name: c.name, version: 1, spec: c.spec, desired: c.desired, createdAt: c.at, updatedAt: c.at };
  return newVersion(pipeline, { version: 1, spec: c.spec, origin: 'create', createdAt: c.at });
}

function replacePipeline(state: StateReader, c: CommandOf<'pipeline.replace'>): Plan {
  const bad = specNameProblem(c.name, c.spec);
  if (bad) return bad;
  const p = state.pipeline(c.name);
  if (!p) return pipelineNotFound(c.name);
  const conflict = versionConflict(p, c.ifVersion);
  if (conflict) return conflict;
  const version = p.version + 1;
  return newVersion({ ...p, version, spec: c.spec, updatedAt: c.at }, { version, spec: c.spec, origin: 'replace', createdAt: c.at, ...(c.reset === true ? { reset: true } : {}) });
}

function deletePipeline(state: StateReader, c: CommandOf<'pipeline.delete'>): Plan {
  const p = state.pipeline(c.name);
  if (!p) return pipelineNotFound(c.name);
  const conflict = versionConflict(p, c.ifVersion);
  if (conflict) return conflict;
  const writes: StateWrite[] = [{ keyspace: KEYSPACES.pipelines, key: c.name }];
  for (const v of state.versions(c.name)) writes.push({ keyspace: KEYSPACES.pipelineVersions, key: versionKey(c.name, v.version) });
  writes.push(...forgetTasks(state, c.name));
  return accept({ kind: 'pipelineDeleted', name: c.name, version: p.version }, writes);
}

function setDesired(state: StateReader, c: CommandOf<'pipeline.setDesired'>): Plan {
  const p = state.pipeline(c.name);
  if (!p) return pipelineNotFound(c.name);
  if (p.desired === c.desired) return accept({ kind: 'pipeline', pipeline: p });
  const pipeline: PipelineRecord = { ...p, desired: c.desired, updatedAt: c.at };
  return accept({ kind: 'pipeline', pipeline }, [{ keyspace: KEYSPACES.pipelines, key: c.name, value: pipeline }]);
}

function rollback(state: StateReader, c: CommandOf<'pipeline.rollback'>): Plan {
  const p = state.pipeline(c.name);
  if (!p) return pipelineNotFound(c.name);
  const conflict = versionConflict(p, c.ifVersion);
  if (conflict) return conflict;
  if (c.to === p.version) return reject('CONFLICT', `pipeline '${c.name}' is already at version ${c.to}`, { pipeline: c.name, version: p.version });
  const target = state.version(c.name, c.to);
  if (!target) return reject('NOT_FOUND', `pipeline '${c.name}' has no version ${c.to} (current: ${p.version})`, { pipeline: c.name, version: c.to });
  const version = p.version + 1;
  return newVersion({ ...p, version, spec: target.spec, updatedAt: c.at }, { version, spec: target.spec, origin: 'rollback', from: c.to, createdAt: c.at });
}
