/**
 * A pipeline file sent to the API, read exactly as `wire validate` reads one (same loader, same registry), so a
 * bad file gets the same problems with their line and column. The stored spec is the validated pipeline.
 */
import { parsePipelineText, type Problem } from '../config/index.js';
import { createRegistry } from '../connectors/registry.js';
import { WireError } from '../core/errors.js';
import type { PipelineSpec } from '../core/pipeline.js';
import { checkpointIdentity } from '../engine/checkpoint-identity.js';
import type { StoredSpec } from '../cluster/records.js';
import { confinementError, confiningRegistry, type ConfinementPolicy, type Refusal } from '../security/confine.js';

/** How problems name the body (the place a CLI prints its own file name instead). */
export const BODY_NAME = '<body>';

export type BodyCheck =
  | { readonly ok: true; readonly pipelines: readonly PipelineSpec[] }
  | { readonly ok: false; readonly problems: readonly Problem[]; readonly refusals: readonly Refusal[] };

let registry: ReturnType<typeof createRegistry> | undefined;

/**
 * What an update changes that an earlier version's checkpoints cannot carry over to: the source (its positions would
 * skip or repeat records), the sink or the dead-letter sink (their saved lengths would cut another file), as the
 * engine's checkpoint identity sees them. Undefined when the checkpoints still apply.
 */
export function checkpointBreak(before: StoredSpec, after: StoredSpec): string | undefined {
  registry ??= createRegistry();
  // Both were checked on their way in (stored specs are pipeline specs kept as JSON).
  const then = checkpointIdentity(registry, before as unknown as PipelineSpec);
  const now = checkpointIdentity(registry, after as unknown as PipelineSpec);
  for (const role of ['source', 'sink', 'deadLetter'] as const) {
    const a = then[role];
    const b = now[role];
    if (a !== undefined && b !== undefined && a.fingerprint !== b.fingerprint) return a.label === b.label ? `the ${role}'s config (${b.label})` : `the ${role}: ${a.label} → ${b.label}`;
  }
  return undefined;
}

/**
 * Most entries a pipeline sent to the API may have (bounded above by its `:`, `,`, `-`, `?` and line breaks):
 * YAML's duplicate-key check is quadratic in a mapping's size, so a body of 100,000 keys would hold the node for
 * seconds. A pipeline has a few dozen.
 */
export const MAX_BODY_ENTRIES = 10_000;

function entriesBound(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3a || c === 0x2c || c === 0x2d || c === 0x3f || c === 0x0a) n++;
  }
  return n;
}

/**
 * Checks a pipeline file's text, confined by the node's policy. `${VAR}` references are resolved against an empty
 * environment, and secret references (`${env:NAME}`, `${file:PATH}`) are kept as written: a node's own environment
 * and files (its secrets) must never end up in the replicated state, nor in answers.
 */
export function checkPipelineText(body: unknown, policy: ConfinementPolicy): BodyCheck {
  // No body at all (no content type, so no parser ran): there is no file to read.
  if (typeof body !== 'string') throw new WireError('INVALID_INPUT', 'body: a pipeline file is required (application/yaml or application/json)', { field: 'body' });
  const text = body;
  const entries = entriesBound(text);
  if (entries > MAX_BODY_ENTRIES) {
    throw new WireError('INVALID_INPUT', `the pipeline file is too large: up to ${entries} entries, more than the ${MAX_BODY_ENTRIES} a pipeline sent to the API may have`, { field: 'body', limit: MAX_BODY_ENTRIES });
  }
  registry ??= createRegistry();
  const refusals: Refusal[] = [];
  const result = parsePipelineText(text, BODY_NAME, { env: {}, registry: confiningRegistry(registry, policy, refusals), baseDir: process.cwd(), keepSecretReferences: true });
  return result.problems === undefined ? { ok: true, pipelines: result.pipelines } : { ok: false, problems: result.problems, refusals };
}

function problemsError(problems: readonly Problem[]): WireError {
  const first = problems[0];
  const where = first === undefined ? '' : `: line ${first.line} column ${first.column}: ${first.path === '' ? '' : `${first.path}: `}${first.message}`;
  return new WireError('INVALID_INPUT', `the pipeline has ${problems.length} problem${problems.length === 1 ? '' : 's'}${where}`, {
    field: first?.path === undefined || first.path === '' ? 'body' : `body.${first.path}`,
    problems: problems.map(({ line, column, path, message }) => ({ line, column, path, message })),
  });
}

/** The JSON the state stores: the spec without undefined fields (canonical msgpack holds JSON values only). */
function stored(spec: PipelineSpec): StoredSpec {
  return JSON.parse(JSON.stringify(spec)) as StoredSpec;
}

/** FORBIDDEN naming the refused fields (problems of the file, at their places) and listing every problem. */
function refusedError(problems: readonly Problem[], refusals: readonly Refusal[]): WireError {
  const fields = problems.flatMap(({ path, message }) => {
    const refusal = refusals.find((r) => r.message === message);
    return refusal === undefined ? [] : [{ ...refusal, field: `body.${path}` }];
  });
  if (fields.length === 0) return problemsError(problems);
  const forbidden = confinementError(fields);
  return new WireError('FORBIDDEN', forbidden.message, { ...forbidden.details, problems: problemsError(problems).details['problems'] });
}

/** The one pipeline a create or replace body describes, or INVALID_INPUT with every problem (FORBIDDEN when confinement refused it). */
export function pipelineFromText(text: unknown, policy: ConfinementPolicy): { readonly name: string; readonly spec: StoredSpec } {
  const check = checkPipelineText(text, policy);
  if (!check.ok) throw check.refusals.length > 0 ? refusedError(check.problems, check.refusals) : problemsError(check.problems);
  const [only, ...others] = check.pipelines;
  if (only === undefined || others.length > 0) {
    const names = check.pipelines.map((p) => p.name).join(', ');
    throw new WireError('INVALID_INPUT', `the body must describe one pipeline; it describes ${check.pipelines.length} (${names}): send each on its own`, {
      field: 'body',
      pipelines: check.pipelines.map((p) => p.name),
    });
  }
  return { name: only.name, spec: stored(only) };
}
