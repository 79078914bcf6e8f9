import { createRegistry } from '../../connectors/registry.js';
import { WireError } from '../../core/errors.js';
import type { CliIo } from '../io.js';
import { EXIT_INTERRUPTED, EXIT_OK, errorJson, exitCodeOf, formatError } from '../exit.js';
import { STDIN_FILE, STDIN_NAME, loadPipelines } from '../load.js';
import { formatProblem } from '../../config/index.js';
import type { PipelineSpec } from '../../core/pipeline.js';
import type { LogLevel } from '../log-levels.js';
import { createCliLogger } from '../logger.js';
import { createReporter, type ReportMode } from '../progress.js';
import { startPipelines, type RunSession } from '../session.js';
import { onShutdownSignals } from '../signals.js';

export interface RunOptions {
  readonly dataDir: string;
  readonly json: boolean;
  readonly fromStart: boolean;
  readonly logLevel: LogLevel;
  /** Run only the pipeline of this name. */
  readonly pipeline?: string;
  /** Check that inputs, modules and outputs are there, and run nothing. */
  readonly dryRun?: boolean;
}

/**
 * The pipelines to run: all, or the one `--pipeline` names (NOT_FOUND when the file has none of that name). A
 * pipeline file read from stdin leaves nothing for a stdin source to read: INVALID_INPUT.
 */
function selectPipelines(file: string, pipelines: readonly PipelineSpec[], name: string | undefined): readonly PipelineSpec[] {
  const chosen = name === undefined ? pipelines : pipelines.filter((p) => p.name === name);
  if (chosen.length === 0) {
    const names = pipelines.map((p) => p.name).join(', ');
    throw new WireError('NOT_FOUND', `${file === STDIN_FILE ? STDIN_NAME : file} has no pipeline named '${name}' (it has ${names})`, { pipeline: name });
  }
  const fromStdin = file === STDIN_FILE ? chosen.find((p) => p.source.type === 'stdin') : undefined;
  if (fromStdin !== undefined) {
    throw new WireError('INVALID_INPUT', `pipeline ${fromStdin.name} reads stdin, but the pipeline file came from stdin: give its path instead of -`);
  }
  return chosen;
}

function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/**
 * `wire run FILE`: validates the file (reading and writing nothing if it is bad), runs its pipelines
 * side by side with progress, and returns the exit code: 0 when every pipeline completed or was
 * drained on a signal, else the exit code of the first failed pipeline's error.
 */
export async function runCommand(file: string, options: RunOptions, io: CliIo): Promise<number> {
  const debug = options.logLevel === 'debug' || options.logLevel === 'trace';
  const printError = (error: unknown): void => {
    io.stderr(options.json ? JSON.stringify({ type: 'error', error: errorJson(error) }) + '\n' : formatError(error, { debug }));
  };

  const registry = createRegistry();
  const loaded = await loadPipelines(file, io, registry);
  if ('problems' in loaded) {
    const count = loaded.problems.length;
    const message = `${file}: ${count} problem${count === 1 ? '' : 's'}; nothing was run`;
    const problems = loaded.problems.map(formatProblem);
    // As text, the problems come one per line above the error; as JSON, inside it.
    if (!options.json) for (const problem of problems) io.stderr(problem + '\n');
    const error = new WireError('INVALID_INPUT', message, options.json ? { problems } : {});
    printError(error);
    return exitCodeOf(error);
  }
  let pipelines: readonly PipelineSpec[];
  try {
    pipelines = selectPipelines(file, loaded.pipelines, options.pipeline);
  } catch (error) {
    printError(error);
    return exitCodeOf(error);
  }
  if (options.dryRun) {
    const { dryRun } = await import('../dry-run/report.js');
    return dryRun(pipelines, { dataDir: options.dataDir, json: options.json }, io);
  }

  let session: RunSession;
  try {
    session = await startPipelines(pipelines, {
      registry,
      dataDir: options.dataDir,
      fromStart: options.fromStart,
      logger: createCliLogger(options.logLevel),
    });
  } catch (error) {
    printError(error);
    return exitCodeOf(error);
  }
  const { runs } = session;

  const removeSignals = onShutdownSignals({
    drain: (signal) => {
      io.stderr(
        options.json
          ? JSON.stringify({ type: 'signal', signal, action: 'drain' }) + '\n'
          : `wire: ${signal}: draining; send it again to exit at once\n`,
      );
      for (const run of runs) run.stop();
    },
    abort: (signal) => {
      // Nothing acknowledged is lost: the last checkpoint stands and the file sink truncates to it on rerun.
      for (const run of runs) run.kill();
      io.stderr(
        options.json
          ? JSON.stringify({ type: 'signal', signal, action: 'exit' }) + '\n'
          : `wire: ${signal}: exiting at once\n`,
      );
      process.exit(EXIT_INTERRUPTED);
    },
  });

  const mode: ReportMode = options.json ? 'json' : io.stderrIsTty ? 'tty' : 'plain';
  const reporter = createReporter({ mode, write: io.stderr, columns: io.columns });
  let exitCode = EXIT_OK;
  try {
    reporter.start(() => runs.map((run) => run.sample()));
    const outcomes = await Promise.allSettled(runs.map((run) => run.done));
    reporter.finish(
      runs.map((run) => run.sample()),
      peakRssMb(),
    );
    for (const outcome of outcomes) {
      const failure =
        outcome.status === 'rejected'
          ? (outcome.reason as unknown)
          : outcome.value.state === 'failed'
            ? (outcome.value.error ?? new WireError('INTERNAL', `pipeline ${outcome.value.pipeline} failed`))
            : undefined;
      if (failure === undefined) continue;
      // In JSON mode the failed pipeline's summary line already carries its error.
      if (!options.json || outcome.status === 'rejected') printError(failure);
      if (exitCode === EXIT_OK) exitCode = exitCodeOf(failure);
    }
  } finally {
    removeSignals();
    await session.close();
  }
  return exitCode;
}
