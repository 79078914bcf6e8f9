import { WireError, errorMessage, toWireError } from '../../core/errors.js';
import type { ComponentSpec, PipelineSpec } from '../../core/pipeline.js';
import type { ComponentKind, ComponentRegistry } from '../../core/ports.js';
import { EXIT_OK, errorJson, exitCodeOf, formatError } from '../exit.js';
import type { CliIo } from '../io.js';
import { checkpointProbe } from './checkpoint.js';
import { probeOf, writableDirectory } from './probes.js';

export interface DryRunOptions {
  readonly registry: ComponentRegistry;
  readonly dataDir: string;
  readonly fromStart: boolean;
  readonly json: boolean;
}

interface Check {
  readonly pipeline: string;
  /** `source`, `transforms[0]`, `sink`, `dead_letter`, `checkpoint`, or `data_dir`. */
  readonly component: string;
  readonly type: string;
  readonly ok: boolean;
  readonly message: string;
  readonly error?: WireError;
}

function componentsOf(spec: PipelineSpec): [string, ComponentKind, ComponentSpec][] {
  return [
    ['source', 'source', spec.source],
    ...spec.transforms.map((t, i): [string, ComponentKind, ComponentSpec] => [`transforms[${i}]`, 'transform', t]),
    ['sink', 'sink', spec.sink],
    ...(spec.deadLetter === undefined ? [] : [['dead_letter', 'sink', spec.deadLetter] as [string, ComponentKind, ComponentSpec]]),
  ];
}

async function check(pipeline: string, component: string, type: string, probe: () => Promise<string>): Promise<Check> {
  try {
    return { pipeline, component, type, ok: true, message: await probe() };
  } catch (err) {
    const error = toWireError(err);
    return { pipeline, component, type, ok: false, message: errorMessage(error), error };
  }
}

/**
 * `wire run --dry-run`: checks what each pipeline will need from outside the process — its input files, its `js`
 * modules, where its sinks write or send, and the data dir — reading and writing no data and storing no checkpoint.
 * Prints one line per check on stdout (JSON lines with --json); exits 0 when all passed, else with the exit code of
 * the first problem.
 */
export async function dryRun(pipelines: readonly PipelineSpec[], options: DryRunOptions, io: CliIo): Promise<number> {
  const checks: Check[] = [await check('', 'data_dir', 'data_dir', () => writableDirectory(options.dataDir))];
  for (const spec of pipelines) {
    for (const [component, kind, c] of componentsOf(spec)) {
      const probe = probeOf(kind, c);
      checks.push(
        probe === undefined
          ? { pipeline: spec.name, component, type: c.type, ok: true, message: 'nothing to check outside the process' }
          : await check(spec.name, component, c.type, () => probe(c.config)),
      );
    }
    checks.push(await check(spec.name, 'checkpoint', 'checkpoint', () => checkpointProbe(spec, options)));
  }
  for (const c of checks) {
    if (options.json) {
      const line = { type: 'check', pipeline: c.pipeline, component: c.component, component_type: c.type, ok: c.ok, message: c.message };
      io.stdout(JSON.stringify({ ...line, ...(c.error === undefined ? {} : { error: errorJson(c.error) }) }) + '\n');
    } else {
      const where = c.pipeline === '' ? c.component : `${c.pipeline} ${c.component} (${c.type})`;
      io.stdout(`${c.ok ? 'ok  ' : 'FAIL'} ${where}: ${c.message}\n`);
    }
  }
  const failed = checks.filter((c) => !c.ok);
  if (failed.length === 0) return EXIT_OK;
  const first = failed[0]!;
  const error = new WireError(first.error?.code ?? 'INTERNAL', `dry run: ${failed.length} of ${checks.length} checks failed; nothing was run`);
  io.stderr(options.json ? JSON.stringify({ type: 'error', error: errorJson(error) }) + '\n' : formatError(error, { debug: false }));
  return exitCodeOf(error);
}
