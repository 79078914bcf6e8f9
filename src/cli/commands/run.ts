import { createRegistry } from '../../connectors/registry.js';
import { WireError } from '../../core/errors.js';
import type { CliIo } from '../io.js';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_STDOUT_CLOSED, errorOutput, exitCodeOf } from '../exit.js';
import { STDIN_FILE, fileName, loadPipelines } from '../load.js';
import { SecretRedactor, formatProblem } from '../../config/index.js';
import type { PipelineSpec } from '../../core/pipeline.js';
import { redactedIo } from '../redact.js';
import type { LogLevel } from '../log-levels.js';
import { createCliLogger } from '../logger.js';
import { createReporter, reportMode, type PipelineProgress } from '../progress.js';
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
  /** `--env-file`: more `${VAR}`s, under the environment's. */
  readonly envFile?: string;
}

/**
 * The pipelines to run: all, or the one `--pipeline` names (NOT_FOUND when the file has none of that name). A
 * pipeline file read from stdin leaves nothing for a stdin source to read: INVALID_INPUT.
 */
function selectPipelines(file: string, pipelines: readonly PipelineSpec[], name: string | undefined): readonly PipelineSpec[] {
  const chosen = name === undefined ? pipelines : pipelines.filter((p) => p.name === name);
  if (chosen.length === 0) {
    const names = pipelines.map((p) => p.name).join(', ');
    throw new WireError('NOT_FOUND', `${fileName(file)} has no pipeline named '${name}' (it has ${names})`, { pipeline: name });
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
 * drained on a signal, else the exit code of the first failed pipeline's error, or 141 when stdout's
 * reader went away.
 */
export async function runCommand(file: string, options: RunOptions, cliIo: CliIo): Promise<number> {
  // Values of `${file:…}` secrets never reach stderr, whatever error or log line would carry them.
  const redactor = new SecretRedactor();
  const io = redactedIo(cliIo, redactor);
  const debug = options.logLevel === 'debug' || options.logLevel === 'trace';
  // Until the reporter exists; from then on, everything goes through it.
  const printError = (error: unknown): void => io.stderr(errorOutput(error, { json: options.json, debug }));

  const registry = createRegistry();
  // A dry run checks `js` modules itself, as one of its checks, so that it reports every problem at once.
  const loaded = await loadPipelines(file, io, registry, options.envFile, options.dryRun !== true);
  if ('problems' in loaded) {
    const count = loaded.problems.length;
    const message = `${fileName(file)}: ${count} problem${count === 1 ? '' : 's'}; nothing was run`;
    const problems = loaded.problems.map(formatProblem);
    // As text, the problems come one per line above the error; as JSON, inside it.
    if (!options.json) for (const problem of problems) io.stderr(problem + '\n');
    const error = new WireError('INVALID_INPUT', message, options.json ? { problems } : {});
    printError(error);
    return exitCodeOf(error);
  }
  for (const secret of loaded.secrets) redactor.add(secret);
  let pipelines: readonly PipelineSpec[];
  try {
    pipelines = selectPipelines(file, loaded.pipelines, options.pipeline);
  } catch (error) {
    printError(error);
    return exitCodeOf(error);
  }
  if (options.dryRun) {
    const { dryRun } = await import('../dry-run/report.js');
    return dryRun(pipelines, { registry, dataDir: options.dataDir, fromStart: options.fromStart, json: options.json }, io);
  }

  const mode = reportMode({
    json: options.json,
    stderrIsTty: io.stderrIsTty,
    stdoutIsTty: io.stdoutIsTty === true,
    writesStdout: pipelines.some(writesToStdout),
    stdinIsTty: io.stdinIsTty === true,
    readsStdin: pipelines.some((spec) => spec.source.type === 'stdin'),
  });
  // Everything the run prints on stderr goes through the reporter, which keeps it clear of the live line.
  const reporter = createReporter({ mode, write: io.stderr, columns: io.columns });
  const print = (text: string): void => reporter.print(text);
  const printRunError = (error: unknown, pipeline?: string): void =>
    print(errorOutput(error, { json: options.json, debug, ...(pipeline === undefined ? {} : { pipeline }) }));

  let session: RunSession;
  try {
    session = await startPipelines(pipelines, {
      registry,
      dataDir: options.dataDir,
      fromStart: options.fromStart,
      // Through the reporter, which writes to the redacting stderr.
      logger: createCliLogger({ level: options.logLevel, json: options.json, write: print }),
    });
  } catch (error) {
    printRunError(error);
    return exitCodeOf(error);
  }
  const { runs } = session;
  let finished = false;
  const notice = (signal: string, action: string, text: string): void =>
    print(options.json ? JSON.stringify({ type: 'signal', signal, action }) + '\n' : `wire: ${signal}: ${text}\n`);

  const removeSignals = onShutdownSignals({
    drain: (signal) => {
      notice(signal, 'drain', 'draining; send it again to exit at once');
      for (const run of runs) run.stop();
    },
    abort: (signal) => {
      // Nothing acknowledged is lost: the last checkpoint stands and the file sink truncates to it on rerun.
      for (const run of runs) run.kill();
      notice(signal, 'exit', 'exiting at once');
      // No summaries: the runs did not end. This clears the live line, so the shell's prompt starts on a line of its own.
      reporter.finish([], peakRssMb());
      process.exit(EXIT_INTERRUPTED);
    },
  });
  // The reader of stdout went away: as for a Unix tool killed by SIGPIPE, the run is over. The stdout sink's
  // pipeline stops on its failed write (its last checkpoint stands); the others drain.
  let stdoutClosed = false;
  io.onStdoutClosed?.(() => {
    if (finished) return;
    stdoutClosed = true;
    notice('SIGPIPE', 'stop', 'stdout closed; stopping');
    for (const run of runs) run.stop();
  });
  const closedStdout = (error: unknown): boolean => stdoutClosed && causedByClosedPipe(error);

  let exitCode = EXIT_OK;
  try {
    reporter.start(() => runs.map((run) => run.sample()));
    const outcomes = await Promise.allSettled(runs.map((run) => run.done));
    finished = true;
    reporter.finish(
      runs.map((run) => shownAsStopped(run.sample(), closedStdout)),
      peakRssMb(),
    );
    outcomes.forEach((outcome, i) => {
      const failure =
        outcome.status === 'rejected'
          ? (outcome.reason as unknown)
          : outcome.value.state === 'failed'
            ? (outcome.value.error ?? new WireError('INTERNAL', 'the pipeline failed'))
            : undefined;
      if (failure === undefined || closedStdout(failure)) return;
      // In JSON mode the failed pipeline's summary line already carries its error.
      if (!options.json || outcome.status === 'rejected') printRunError(failure, runs[i]!.name);
      if (exitCode === EXIT_OK) exitCode = exitCodeOf(failure);
    });
  } finally {
    finished = true;
    removeSignals();
    await session.close();
  }
  return exitCode === EXIT_OK && stdoutClosed ? EXIT_STDOUT_CLOSED : exitCode;
}

function writesToStdout(spec: PipelineSpec): boolean {
  return spec.sink.type === 'stdout' || spec.deadLetter?.type === 'stdout';
}

/** A write that failed because the pipe's reader had gone: somewhere in the cause chain, EPIPE. */
function causedByClosedPipe(error: unknown): boolean {
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    if ((current as NodeJS.ErrnoException).code === 'EPIPE') return true;
  }
  return false;
}

/** A pipeline whose only failure was a closed stdout ended as a stopped one: quietly, with what it confirmed. */
function shownAsStopped(p: PipelineProgress, closedStdout: (error: unknown) => boolean): PipelineProgress {
  if (p.state !== 'failed' || !closedStdout(p.error)) return p;
  const { error: _closed, ...rest } = p;
  return { ...rest, state: 'stopped' };
}
