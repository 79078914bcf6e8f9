import type { PipelineSpec } from '../core/pipeline.js';
import type { ComponentRegistry } from '../core/ports.js';
import { checkPipelineText, loadPipelineFile, parsePipelineText, withEnvFile, type Env, type LoadResult, type Problem } from '../config/index.js';
import type { CliIo } from './io.js';

export type Loaded = { readonly pipelines: PipelineSpec[]; readonly secrets: readonly string[] } | { readonly problems: Problem[] };

/** The FILE argument that means "read the pipeline file from stdin". */
export const STDIN_FILE = '-';
/** How problems name a pipeline file read from stdin. */
export const STDIN_NAME = '<stdin>';

/** How messages name the FILE argument: `<stdin>` for `-`, as its problems do. */
export function fileName(file: string): string {
  return file === STDIN_FILE ? STDIN_NAME : file;
}

async function loadFromStdin(io: Pick<CliIo, 'stdin'>, env: Env, registry: ComponentRegistry, probe: boolean): Promise<LoadResult> {
  // Loaded here only: `wire run FILE` need not pay for it at start-up.
  const { text } = await import('node:stream/consumers');
  const source = io.stdin === undefined ? '' : await text(io.stdin);
  const options = { env, registry, baseDir: process.cwd() };
  return probe ? checkPipelineText(source, STDIN_NAME, options) : parsePipelineText(source, STDIN_NAME, options);
}

/**
 * Loads and validates a pipeline file, or the text on stdin for `-` (relative paths in it are then relative
 * to the working directory); `${VAR}` from the environment and then from `envFile` (`--env-file`). `probe`: also load
 * `js` modules and check their exports (see `checkPipelineText`).
 */
export async function loadPipelines(
  file: string,
  io: Pick<CliIo, 'env' | 'stdin'>,
  registry: ComponentRegistry,
  envFile?: string,
  probe = true,
): Promise<Loaded> {
  const env = await withEnvFile(io.env, envFile);
  const result = file === STDIN_FILE ? await loadFromStdin(io, env, registry, probe) : await loadPipelineFile(file, { env, registry, probe });
  if (result.problems !== undefined) return { problems: result.problems };
  return { pipelines: result.pipelines, secrets: result.secrets };
}
