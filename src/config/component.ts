import { errorMessage } from '../core/errors.js';
import type { ComponentSpec } from '../core/pipeline.js';
import type { ComponentKind, ComponentRegistry, ConfigProblem } from '../core/ports.js';
import { isObject, type RawComponent } from './forms.js';
import type { DocPath } from './problem.js';
import type { Reporter } from './reporter.js';
import { schemaProblems } from './schema-errors.js';
import { resolveRelativePaths, validateAgainst } from './schema-validator.js';
import { suggestion } from '../core/suggest.js';

export interface ComponentContext {
  readonly registry: ComponentRegistry;
  readonly report: Reporter;
  /** The pipeline file's directory, for paths the schema marks as relative to it. */
  readonly baseDir: string;
  /** Where components' probes (`ComponentDefinition.probe`) are gathered to be run; absent: not run. */
  readonly probes?: Probe[];
}

/** A component's probe: runs it and reports what it finds at its places in the file. */
export interface Probe {
  readonly run: () => Promise<void>;
}

/** Reports a component's problems at their places in its config. */
function reportProblems(report: Reporter, configAt: DocPath, problems: readonly ConfigProblem[]): void {
  for (const p of problems) {
    const inner = p.column === undefined ? undefined : p.column - 1;
    report.add([...configAt, ...checkPathSegments(p.path)], p.message, { inner });
  }
}

/** `set.user.name`, `remove[1]` → segments (the source map rejoins dotted keys). */
function checkPathSegments(path: string): (string | number)[] {
  const segments: (string | number)[] = [];
  for (const m of path.matchAll(/\[(\d+)\]|[^.[\]]+/g)) segments.push(m[1] !== undefined ? Number(m[1]) : m[0]);
  return segments;
}

/**
 * Validates one component against its registered definition: the type exists, the config fits the
 * schema (defaults filled in), then the definition's own check. Undefined when anything is wrong.
 */
export function validateComponent(raw: RawComponent, kind: ComponentKind, ctx: ComponentContext): ComponentSpec | undefined {
  const { at, value } = raw;
  // The file's shape was checked already; a component without a usable type or config was reported there.
  if (!isObject(value) || typeof value['type'] !== 'string' || value['type'] === '') return undefined;
  const written = value['config'];
  const config = written === undefined || written === null ? {} : written;
  if (!isObject(config)) return undefined;
  const type = value['type'];
  const definition = ctx.registry.get(kind, type);
  if (definition === undefined) {
    const known = ctx.registry.list(kind).map((d) => d.type);
    ctx.report.add([...at, 'type'], `unknown ${kind} type '${type}'${suggestion(type, known)}`);
    return undefined;
  }
  const configAt = [...at, 'config'];
  const errors = validateAgainst(definition.schema, config);
  if (errors.length > 0) {
    for (const p of schemaProblems(errors, config)) ctx.report.add([...configAt, ...p.path], p.message, { key: p.atKey });
    return undefined;
  }
  resolveRelativePaths(definition.schema, config, ctx.baseDir);
  let problems: readonly ConfigProblem[];
  try {
    problems = definition.check?.(config) ?? [];
  } catch (err) {
    problems = [{ path: '', message: `check failed: ${errorMessage(err)}` }];
  }
  reportProblems(ctx.report, configAt, problems);
  const probe = definition.probe;
  if (problems.length === 0 && probe !== undefined && ctx.probes !== undefined) {
    const run = async (): Promise<void> => {
      let found: readonly ConfigProblem[];
      try {
        found = await probe(config);
      } catch (err) {
        found = [{ path: '', message: `check failed: ${errorMessage(err)}` }];
      }
      reportProblems(ctx.report, configAt, found);
    };
    ctx.probes.push({ run });
  }
  return problems.length > 0 ? undefined : { type, config };
}
