/**
 * What the node that runs a pipeline's task calls before the task opens anything: the pipeline is confined by
 * this node's own policy (its `--allow-*` flags), then its secret references are resolved from this node's
 * environment and disk. The resolved spec goes to the engine only; the redactor to the task's logger.
 */
import type { Env } from '../config/interpolate.js';
import type { SecretFileReader } from '../config/secret-file.js';
import type { PipelineSpec } from '../core/pipeline.js';
import type { ComponentRegistry } from '../core/ports.js';
import { confinePipeline, type ConfinementPolicy } from './confine.js';
import { resolveSecrets, type ResolvedPipeline } from './secrets.js';

export interface AdmitOptions {
  readonly registry: ComponentRegistry;
  readonly policy: ConfinementPolicy;
  readonly env: Env;
  readonly readFile?: SecretFileReader;
}

/** FORBIDDEN when this node's policy refuses the pipeline; INVALID_INPUT when a secret cannot be resolved. */
export function admitTask(spec: PipelineSpec, options: AdmitOptions): ResolvedPipeline {
  confinePipeline(spec, options.registry, options.policy);
  return resolveSecrets(spec, { env: options.env, ...(options.readFile === undefined ? {} : { readFile: options.readFile }) });
}
