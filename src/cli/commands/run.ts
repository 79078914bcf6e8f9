import { createRegistry } from '../../connectors/registry.js';
import { WireError } from '../../core/errors.js';
import type { CliIo } from '../io.js';
import { EXIT_INTERRUPTED, EXIT_OK, errorJson, exitCodeOf, formatError } from '../exit.js';
import { loadPipelines } from '../load.js';
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
  const loaded = await loadPipelines(file, io.env, registry);
  if ('problems' in loaded) {
    const count = loaded.problems.length;
    const message = `${file}: ${count} problem${count === 1 ? '' : 's'}; nothing was run`;
    // As text, the problems come one per line above the error; as JSON, inside it.
    if (!options.json) for (const problem of loaded.problems) io.stderr(problem + '\n');
    const error = new WireError('INVALID_INPUT', message, options.json ? { problems: loaded.problems } : {});
    printError(error);
    return exitCodeOf(error);
  }

  let session: RunSession;
  try {
    session = await startPipelines(loaded.pipelines, {
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
