import type { CliIo } from '../io.js';
import { EXIT_OK, exitCodeOf, formatError } from '../exit.js';
import { createRegistry } from '../../connectors/registry.js';
import { loadPipelines } from '../load.js';
import { WireError } from '../../core/errors.js';

/** `wire validate FILE`: OK and the pipelines' names, or every problem as `file:line:col path: message`. */
export async function validateCommand(file: string, io: CliIo): Promise<number> {
  const loaded = await loadPipelines(file, io.env, createRegistry());
  if ('problems' in loaded) {
    for (const problem of loaded.problems) io.stderr(problem + '\n');
    const error = new WireError(
      'INVALID_INPUT',
      `${file}: ${loaded.problems.length} problem${loaded.problems.length === 1 ? '' : 's'}`,
    );
    io.stderr(formatError(error, { debug: false }));
    return exitCodeOf(error);
  }
  const names = loaded.pipelines.map((p) => p.name).join(', ');
  io.stdout(`OK: ${file}: ${loaded.pipelines.length} pipeline${loaded.pipelines.length === 1 ? '' : 's'} (${names})\n`);
  return EXIT_OK;
}
