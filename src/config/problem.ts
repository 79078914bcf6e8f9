import type { PipelineSpec } from '../core/pipeline.js';

/** One thing wrong with a pipeline file, where it is. */
export interface Problem {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  /** Where in the document: `sink.config.path`, `pipelines[1].transforms[0].config.expr`; empty for the file itself. */
  readonly path: string;
  readonly message: string;
}

/** Either every pipeline of a file, validated, or every problem found in it. */
export type LoadResult =
  | {
      readonly pipelines: PipelineSpec[];
      readonly problems?: undefined;
      /** Values read from secret files (as written and JSON-escaped), to keep out of errors and logs. */
      readonly secrets: readonly string[];
    }
  | { readonly problems: Problem[]; readonly pipelines?: undefined };

/** `pipeline.yaml:9:7 sink.config.path: required` */
export function formatProblem(p: Problem): string {
  const where = `${p.file}:${p.line}:${p.column}`;
  return p.path === '' ? `${where} ${p.message}` : `${where} ${p.path}: ${p.message}`;
}

/** A place in the parsed document: map keys and sequence indexes from the top. */
export type DocPath = readonly (string | number)[];

/** `pipelines[0].sink.config.path` */
export function formatPath(path: DocPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}
