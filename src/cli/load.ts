import { text } from 'node:stream/consumers';
import type { PipelineSpec } from '../core/pipeline.js';
import type { ComponentRegistry } from '../core/ports.js';
import { loadPipelineFile, parsePipelineText, type Problem } from '../config/index.js';
import type { CliIo } from './io.js';

export type Loaded = { readonly pipelines: PipelineSpec[] } | { readonly problems: Problem[] };

/** The FILE argument that means "read the pipeline file from stdin". */
export const STDIN_FILE = '-';
/** How problems name a pipeline file read from stdin. */
export const STDIN_NAME = '<stdin>';

/**
 * Loads and validates a pipeline file, or the text on stdin for `-` (relative paths in it are then relative
 * to the working directory).
 */
export async function loadPipelines(file: string, io: Pick<CliIo, 'env' | 'stdin'>, registry: ComponentRegistry): Promise<Loaded> {
  const result =
    file === STDIN_FILE
      ? parsePipelineText(io.stdin === undefined ? '' : await text(io.stdin), STDIN_NAME, { env: io.env, registry, baseDir: process.cwd() })
      : await loadPipelineFile(file, { env: io.env, registry });
  if (result.problems !== undefined) return { problems: result.problems };
  return { pipelines: result.pipelines };
}
