import type { PipelineSpec } from '../core/pipeline.js';
import type { ComponentRegistry } from '../core/ports.js';
import { loadPipelineFile, parsePipelineText, type LoadResult, type Problem } from '../config/index.js';
import type { CliIo } from './io.js';

export type Loaded = { readonly pipelines: PipelineSpec[] } | { readonly problems: Problem[] };

/** The FILE argument that means "read the pipeline file from stdin". */
export const STDIN_FILE = '-';
/** How problems name a pipeline file read from stdin. */
export const STDIN_NAME = '<stdin>';

async function loadFromStdin(io: Pick<CliIo, 'env' | 'stdin'>, registry: ComponentRegistry): Promise<LoadResult> {
  // Loaded here only: `wire run FILE` need not pay for it at start-up.
  const { text } = await import('node:stream/consumers');
  const source = io.stdin === undefined ? '' : await text(io.stdin);
  return parsePipelineText(source, STDIN_NAME, { env: io.env, registry, baseDir: process.cwd() });
}

/**
 * Loads and validates a pipeline file, or the text on stdin for `-` (relative paths in it are then relative
 * to the working directory).
 */
export async function loadPipelines(file: string, io: Pick<CliIo, 'env' | 'stdin'>, registry: ComponentRegistry): Promise<Loaded> {
  const result = file === STDIN_FILE ? await loadFromStdin(io, registry) : await loadPipelineFile(file, { env: io.env, registry });
  if (result.problems !== undefined) return { problems: result.problems };
  return { pipelines: result.pipelines };
}
