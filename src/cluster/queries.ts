/**
 * Typed reads of the current state for the API and the CLI. Each is synchronous, and LMDB writes only
 * inside `apply`'s synchronous transaction, so one query never sees half of an apply.
 */
import { WireError } from '../core/errors.js';
import type { AppliedPoint, NodeRecord, PipelineRecord, PipelineVersionRecord } from './records.js';
import type { StateReader } from './state-view.js';

export interface ClusterInfo {
  /** Null until the cluster is initialized. */
  readonly id: string | null;
  readonly version: number | null;
  readonly createdAt: number | null;
  readonly applied: AppliedPoint;
  readonly nodes: number;
  readonly pipelines: number;
}

export function clusterInfo(state: StateReader): ClusterInfo {
  const c = state.cluster();
  return {
    id: c?.id ?? null,
    version: c?.version ?? null,
    createdAt: c?.createdAt ?? null,
    applied: state.applied(),
    nodes: state.nodes().length,
    pipelines: state.pipelines().length,
  };
}

export function getPipeline(state: StateReader, name: string): PipelineRecord {
  const p = state.pipeline(name);
  if (!p) throw new WireError('NOT_FOUND', `pipeline '${name}' does not exist`, { pipeline: name });
  return p;
}

/** Every pipeline, by name. */
export function listPipelines(state: StateReader): PipelineRecord[] {
  return state.pipelines();
}

/** Every version of a pipeline, oldest first, the current one last. */
export function pipelineVersions(state: StateReader, name: string): PipelineVersionRecord[] {
  getPipeline(state, name);
  return state.versions(name);
}

export function pipelineVersion(state: StateReader, name: string, version: number): PipelineVersionRecord {
  const p = getPipeline(state, name);
  const v = state.version(name, version);
  if (!v) throw new WireError('NOT_FOUND', `pipeline '${name}' has no version ${version} (current: ${p.version})`, { pipeline: name, version });
  return v;
}

/** Every node, by id. */
export function listNodes(state: StateReader): NodeRecord[] {
  return state.nodes();
}

export function getNode(state: StateReader, id: string): NodeRecord {
  const n = state.node(id);
  if (!n) throw new WireError('NOT_FOUND', `node '${id}' is not a member`, { node: id });
  return n;
}
