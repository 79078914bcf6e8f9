/**
 * Secrets in pipelines. A pipeline sent to the API keeps its secret references (`${env:NAME}`, `${file:PATH}`)
 * as written: they enter the replicated state as references and are resolved only here, on the node that runs
 * the pipeline's task. Fields a component's schema declares secret (`x-wire-secret`) are shown as `"***"` in every
 * answer.
 */
import { interpolate, type Env } from '../config/interpolate.js';
import { SecretRedactor } from '../config/redact.js';
import { secretFileReader, type SecretFileReader } from '../config/secret-file.js';
import { WireError } from '../core/errors.js';
import type { ComponentSpec, PipelineSpec } from '../core/pipeline.js';
import type { ComponentRegistry, ComponentKind } from '../core/ports.js';
import { isObject } from '../config/forms.js';

/** Marks a property of a component schema as a secret: never shown, in answers, logs or errors. */
export const SECRET_KEYWORD = 'x-wire-secret';

/** What a secret field is shown as. */
export const MASK = '***';

export type SecretReference =
  | { readonly kind: 'env'; readonly name: string }
  | { readonly kind: 'file'; readonly path: string }
  /** Any other `${…}`: never in a spec the API stored (the loader resolves or refuses it there). */
  | { readonly kind: 'other'; readonly text: string };

/** The `${…}` references in a string as the API stores it (`$${` is a literal `${`). */
export function secretReferences(text: string): SecretReference[] {
  const found: SecretReference[] = [];
  for (let i = text.indexOf('$'); i >= 0 && i < text.length; i = text.indexOf('$', i + 1)) {
    if (text.startsWith('$${', i)) {
      i += 2;
      continue;
    }
    if (!text.startsWith('${', i)) continue;
    const close = text.indexOf('}', i + 2);
    if (close < 0) break;
    const reference = text.slice(i + 2, close);
    if (reference.startsWith('env:')) found.push({ kind: 'env', name: reference.slice(4) });
    else if (reference.startsWith('file:') && !reference.startsWith('file:-')) found.push({ kind: 'file', path: reference.slice(5) });
    else found.push({ kind: 'other', text: reference });
    i = close;
  }
  return found;
}

/** Every component of a pipeline with the kind it is registered under and where its config sits. */
export function componentsOf(spec: PipelineSpec): { readonly kind: ComponentKind; readonly at: string; readonly component: ComponentSpec }[] {
  return [
    { kind: 'source', at: 'source.config', component: spec.source },
    ...spec.transforms.map((component, i) => ({ kind: 'transform' as const, at: `transforms[${i}].config`, component })),
    { kind: 'sink', at: 'sink.config', component: spec.sink },
    ...(spec.deadLetter === undefined ? [] : [{ kind: 'sink' as const, at: 'dead_letter.config', component: spec.deadLetter }]),
  ];
}

/** The pipeline with each component replaced by `change(component, kind, at)`. */
export function mapComponents(spec: PipelineSpec, change: (component: ComponentSpec, kind: ComponentKind, at: string) => ComponentSpec): PipelineSpec {
  const [source, ...rest] = componentsOf(spec).map(({ kind, at, component }) => change(component, kind, at));
  const transforms = rest.slice(0, spec.transforms.length);
  const [sink, deadLetter] = rest.slice(spec.transforms.length);
  return { ...spec, source: source!, transforms, sink: sink!, ...(deadLetter === undefined ? {} : { deadLetter }) };
}

export interface ResolvedPipeline {
  /** The pipeline with every reference replaced by its value: for the engine only, never stored or shown. */
  readonly spec: PipelineSpec;
  /** Every value resolved: give it to the task's logger and error reporting, which must never print one. */
  readonly redactor: SecretRedactor;
}

export interface ResolveOptions {
  /** The environment of the node that runs the task. */
  readonly env: Env;
  /** Reads `${file:PATH}` (default: from this node's disk, relative paths against its working directory). */
  readonly readFile?: SecretFileReader;
}

function resolveValue(value: unknown, at: string, ctx: { env: Env; readFile: SecretFileReader; redactor: SecretRedactor }): unknown {
  if (typeof value === 'string') {
    if (!value.includes('$')) return value;
    // Only secret references resolve here: a plain `${NAME}` would read any variable of this node, past --allow-env.
    if (secretReferences(value).some((r) => r.kind === 'other')) {
      throw new WireError('INVALID_INPUT', `${at}: only \${env:NAME} and \${file:PATH} are resolved where a pipeline runs`, { field: at });
    }
    const { text, problems, secrets } = interpolate(value, ctx.env, ctx.readFile);
    for (const secret of secrets) ctx.redactor.add(secret);
    const problem = problems[0];
    if (problem !== undefined) throw new WireError('INVALID_INPUT', `${at}: ${ctx.redactor.redact(problem.message)}`, { field: at });
    return text;
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveValue(v, `${at}[${i}]`, ctx));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveValue(v, `${at}.${k}`, ctx)]));
  }
  return value;
}

/**
 * Resolves a stored pipeline's secret references on the node that runs it. INVALID_INPUT naming the field (never
 * a value) when a variable is not set or a file cannot be read. Confine the pipeline first (`admitTask`).
 */
export function resolveSecrets(spec: PipelineSpec, options: ResolveOptions): ResolvedPipeline {
  const ctx = { env: options.env, readFile: options.readFile ?? secretFileReader(process.cwd()), redactor: new SecretRedactor() };
  const resolved = mapComponents(spec, (c, _kind, at) => ({ type: c.type, config: resolveValue(c.config, at, ctx) as Record<string, unknown> }));
  return { spec: resolved, redactor: ctx.redactor };
}

/** Every string under a secret field becomes MASK; the shape (keys, arrays) stays, so a reader sees what is set. */
function maskAll(value: unknown): unknown {
  if (typeof value === 'string') return MASK;
  if (Array.isArray(value)) return value.map(maskAll);
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskAll(v)]));
  return value;
}

function maskBySchema(schema: unknown, value: unknown): unknown {
  if (!isObject(schema)) return value;
  if (schema[SECRET_KEYWORD] === true) return maskAll(value);
  const properties = schema['properties'];
  if (!isObject(properties) || !isObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskBySchema(properties[k], v)]));
}

/**
 * A component's config with its secret fields masked. A type not registered under `kind` is masked whole (its
 * secrets are unknown), unless `unknown: 'keep'` (the caller tries each kind in turn).
 */
export function maskComponent(registry: ComponentRegistry, kind: ComponentKind, component: ComponentSpec, options: { unknown: 'mask' | 'keep' } = { unknown: 'mask' }): ComponentSpec {
  const definition = registry.get(kind, component.type);
  if (definition === undefined && options.unknown === 'keep') return component;
  const config = definition === undefined ? maskAll(component.config) : maskBySchema(definition.schema, component.config);
  return { type: component.type, config: config as Record<string, unknown> };
}

/** A stored pipeline spec as it may be shown: secret fields masked. */
export function maskPipeline(registry: ComponentRegistry, spec: PipelineSpec): PipelineSpec {
  return mapComponents(spec, (c, kind) => maskComponent(registry, kind, c));
}
