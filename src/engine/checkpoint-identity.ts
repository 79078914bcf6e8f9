import { createHash } from 'node:crypto';
import { WireError } from '../core/errors.js';
import type { ComponentSpec, PipelineSpec } from '../core/pipeline.js';
import type { CheckpointIdentity, ComponentIdentity, ComponentKind, ComponentRegistry } from '../core/ports.js';
import type { JsonValue, Position } from '../core/record.js';

/** JSON with object keys sorted, so equal configs hash equally whatever order the file wrote them in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function identityOf(registry: ComponentRegistry, kind: ComponentKind, spec: ComponentSpec): ComponentIdentity | undefined {
  const definition = registry.get(kind, spec.type);
  const declared = definition?.identity?.({ ...spec.config });
  // A source's positions always mean something only for its config; a sink without a declared identity keeps no state to check.
  if (declared === undefined && kind !== 'source') return undefined;
  const key: JsonValue = declared?.key ?? (spec.config as JsonValue);
  const label = declared === undefined || declared.label === '' ? spec.type : `${spec.type} ${declared.label}`;
  const fingerprint = createHash('sha256').update(canonical({ type: spec.type, key })).digest('hex').slice(0, 32);
  return { type: spec.type, label, fingerprint };
}

/** The identity a pipeline's checkpoints are saved with. */
export function checkpointIdentity(registry: ComponentRegistry, spec: PipelineSpec): CheckpointIdentity {
  const sink = identityOf(registry, 'sink', spec.sink);
  const deadLetter = spec.deadLetter === undefined ? undefined : identityOf(registry, 'sink', spec.deadLetter);
  return {
    source: identityOf(registry, 'source', spec.source)!,
    ...(sink === undefined ? {} : { sink }),
    ...(deadLetter === undefined ? {} : { deadLetter }),
  };
}

const ROLES = [
  ['source', 'source'],
  ['sink', 'sink'],
  ['deadLetter', 'dead-letter sink'],
] as const;

/**
 * Refuses a checkpoint saved for other components: its position would skip or repeat records of this source, and
 * its sink states would cut another file. A checkpoint saved before identities existed is taken as it is.
 */
export function assertSameIdentity(
  saved: CheckpointIdentity | undefined,
  current: CheckpointIdentity,
  where: { readonly pipeline: string; readonly key: string; readonly dataDir: string },
): void {
  if (saved === undefined) return;
  for (const [role, words] of ROLES) {
    const then = saved[role];
    const now = current[role];
    if (then === undefined || now === undefined || then.fingerprint === now.fingerprint) continue;
    const change =
      then.label === now.label
        ? `was saved when the ${words} (${now.label}) had another config`
        : `was saved for the ${words} ${then.label}, and the pipeline now has ${now.label}`;
    throw new WireError(
      'CONFLICT',
      `pipeline ${where.pipeline}: its checkpoint in ${where.dataDir} ${change}: it does not apply. ` +
        `Start over with \`wire run --from-start\`, or remove the checkpoint with \`wire checkpoints reset ${where.key} --data-dir ${where.dataDir}\``,
      { pipeline: where.pipeline, component: role, saved: then.label, current: now.label },
    );
  }
}

/** A checkpointed position in words, as the source's definition says it (or as JSON). */
export function describePosition(registry: ComponentRegistry, spec: ComponentSpec, position: Position): string {
  if (position === null) return 'the start (nothing was acknowledged yet)';
  const definition = registry.get('source', spec.type);
  return definition?.describePosition?.({ ...spec.config }, position) ?? `position ${JSON.stringify(position)}`;
}
