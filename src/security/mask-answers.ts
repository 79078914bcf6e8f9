/**
 * Secret fields never leave the node in an answer: every pipeline spec an answer carries (a pipeline, a version,
 * a list of them, whatever the route) has its secret fields masked just before it is serialized, and so has any
 * component met on its own (`{type, config}`, a task's source): by every kind registered under its type, since
 * its kind is not known there.
 */
import type { FastifyInstance } from 'fastify';
import type { PipelineSpec } from '../core/pipeline.js';
import type { ComponentRegistry } from '../core/ports.js';
import type { ComponentSpec } from '../core/pipeline.js';
import { maskComponent, maskPipeline } from './secrets.js';
import { isObject } from '../config/forms.js';

/** Answers nest specs a few levels down at most (`{pipelines: [{spec}]}`); deeper is not an answer of ours. */
const MAX_DEPTH = 6;

function isSpec(value: unknown): value is PipelineSpec {
  return isObject(value) && isObject(value['source']) && isObject(value['sink']) && Array.isArray(value['transforms']);
}

function isComponent(value: Record<string, unknown>): value is Record<string, unknown> & ComponentSpec {
  return typeof value['type'] === 'string' && isObject(value['config']);
}

/** The answer with every `spec` masked (a copy: the state's own objects are never changed). */
export function maskSpecs(value: unknown, registry: ComponentRegistry, depth = 0): unknown {
  if (depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((v) => maskSpecs(v, registry, depth + 1));
  if (!isObject(value)) return value;
  if (isComponent(value)) {
    const masked = (['source', 'sink', 'transform'] as const).reduce<ComponentSpec>((c, kind) => maskComponent(registry, kind, c, { unknown: 'keep' }), value);
    return { ...value, config: masked.config };
  }
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, k === 'spec' && isSpec(v) ? maskPipeline(registry, v) : maskSpecs(v, registry, depth + 1)]),
  );
}

export function maskAnswers(api: FastifyInstance, registry: ComponentRegistry): void {
  api.addHook('preSerialization', async (_request, _reply, payload) => maskSpecs(payload, registry));
}
