import type { CliIo } from '../io.js';
import { EXIT_OK, errorJson, exitCodeOf, formatError } from '../exit.js';
import { createRegistry } from '../../connectors/registry.js';
import { formatProblem, type Problem } from '../../config/index.js';
import { fileName, loadPipelines, type Loaded } from '../load.js';
import { WireError } from '../../core/errors.js';

function problemsError(file: string, problems: readonly Problem[]): WireError {
  return new WireError('INVALID_INPUT', `${fileName(file)}: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
}

/**
 * `wire validate FILE --json`: one JSON object on stdout, `{"valid":true,"file","pipelines":[names]}` or
 * `{"valid":false,"file","problems":[{file,line,column,path,code,message}]}` (or `"error"` when the file cannot be
 * read); the exit code is the same as without --json.
 */
async function validateJson(argument: string, io: CliIo, envFile: string | undefined): Promise<number> {
  const file = fileName(argument);
  let loaded: Loaded;
  try {
    loaded = await loadPipelines(argument, io, createRegistry(), envFile);
  } catch (error) {
    io.stdout(JSON.stringify({ valid: false, file, problems: [], error: errorJson(error) }) + '\n');
    return exitCodeOf(error);
  }
  if ('problems' in loaded) {
    const error = problemsError(file, loaded.problems);
    // Every problem of a file is bad input: its code is the error's, which sets the exit code.
    const problems = loaded.problems.map((p) => ({ file: p.file, line: p.line, column: p.column, path: p.path, code: error.code, message: p.message }));
    io.stdout(JSON.stringify({ valid: false, file, problems }) + '\n');
    return exitCodeOf(error);
  }
  io.stdout(JSON.stringify({ valid: true, file, pipelines: loaded.pipelines.map((p) => p.name) }) + '\n');
  return EXIT_OK;
}

/** `wire validate FILE`: OK and the pipelines' names, or every problem as `file:line:col path: message`. */
export async function validateCommand(file: string, io: CliIo, options: { json: boolean; envFile?: string } = { json: false }): Promise<number> {
  if (options.json) return validateJson(file, io, options.envFile);
  const loaded = await loadPipelines(file, io, createRegistry(), options.envFile);
  if ('problems' in loaded) {
    for (const problem of loaded.problems) io.stderr(formatProblem(problem) + '\n');
    const error = problemsError(file, loaded.problems);
    io.stderr(formatError(error, { debug: false }));
    return exitCodeOf(error);
  }
  const names = loaded.pipelines.map((p) => p.name).join(', ');
  io.stdout(`OK: ${fileName(file)}: ${loaded.pipelines.length} pipeline${loaded.pipelines.length === 1 ? '' : 's'} (${names})\n`);
  return EXIT_OK;
}
