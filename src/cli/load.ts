import type { PipelineSpec } from '../core/pipeline.js';
import type { ComponentRegistry } from '../core/ports.js';
import { formatProblem, loadPipelineFile } from '../config/index.js';

export type Loaded = { readonly pipelines: PipelineSpec[] } | { readonly problems: string[] };

/** Loads and validates a pipeline file; problems come formatted as `file:line:col path: message`. */
export async function loadPipelines(
  file: string,
  env: Readonly<Record<string, string | undefined>>,
  registry: ComponentRegistry,
): Promise<Loaded> {
  const result = await loadPipelineFile(file, { env, registry });
  if (result.problems !== undefined) return { problems: result.problems.map(formatProblem) };
  return { pipelines: result.pipelines };
}
