import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { WireError, errorMessage } from '../core/errors.js';
import type { PipelineSpec } from '../core/pipeline.js';
import type { ComponentRegistry } from '../core/ports.js';
import { buildPipeline } from './build.js';
import type { Probe } from './component.js';
import { collectPipelines, formOf, isObject, shapeOf } from './forms.js';
import { maskReferences, restoreReferences } from './flow-references.js';
import { interpolateDocument } from './interpolate-document.js';
import { blockDepth, documentDepth, flowDepth, MAX_BLOCK_DEPTH, MAX_NESTING } from './nesting.js';
import type { Env } from './interpolate.js';
import type { DocPath, LoadResult } from './problem.js';
import { Reporter } from './reporter.js';
import { schemaProblems } from './schema-errors.js';
import { secretFileReader, type SecretFileReader } from './secret-file.js';
import { validateAgainst } from './schema-validator.js';
import { SourceMap } from './source-map.js';

export interface LoadOptions {
  /** Where `${VAR}` values come from (usually process.env). */
  readonly env: Env;
  /** The connectors and transforms components are validated against. */
  readonly registry: ComponentRegistry;
  /** Reads `${file:PATH}`; default: from disk, relative paths against the file's directory. */
  readonly readSecretFile?: SecretFileReader;
  /** Keep `${env:…}`, `${file:…}` and `$${` as written, for the node that runs the pipeline to resolve. */
  readonly keepSecretReferences?: boolean;
  /** Run components' probes (a `js` module loaded, its export checked); default true. */
  readonly probe?: boolean;
}

export interface ParseOptions extends LoadOptions {
  /** Relative paths the schemas mark as such (js.module) resolve against this; default: the file's directory. */
  readonly baseDir?: string;
}

/**
 * Parses and validates a pipeline file's text (YAML or JSON) in any of its three forms.
 * Returns every pipeline, or every problem found, each with its line and column. Components' probes (a `js`
 * module loaded and its export checked) are not run: `checkPipelineText` and `loadPipelineFile` run them.
 */
export function parsePipelineText(text: string, fileName: string, options: ParseOptions): LoadResult {
  return resultOf(parse(text, fileName, options, undefined));
}

/** As `parsePipelineText`, and then, when nothing else is wrong, every component's probe (in parallel). */
export async function checkPipelineText(text: string, fileName: string, options: ParseOptions): Promise<LoadResult> {
  const probes: Probe[] = [];
  const parsed = parse(text, fileName, options, probes);
  if (parsed.report.count === 0) await Promise.all(probes.map((p) => p.run()));
  return resultOf(parsed);
}

function resultOf({ report, pipelines }: Parsed): LoadResult {
  return report.count > 0 ? { problems: report.list() } : { pipelines, secrets: report.secrets.secrets };
}

interface Parsed {
  readonly report: Reporter;
  readonly pipelines: PipelineSpec[];
}

function parse(text: string, fileName: string, options: ParseOptions, probes: Probe[] | undefined): Parsed {
  const lines = new LineCounter();
  // Too deep to parse safely: nothing is parsed, and the report says why at the start of the file.
  const flowTooDeep = flowDepth(text) > MAX_NESTING || blockDepth(text) > MAX_BLOCK_DEPTH;
  const masked = maskReferences(flowTooDeep ? '' : text);
  const doc = parseDocument(masked.text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const report = new Reporter(fileName, new SourceMap(doc, text, lines));
  if (flowTooDeep || documentDepth(doc) > MAX_NESTING) {
    report.addAtOffset(0, `the file nests deeper than ${MAX_NESTING} levels; a pipeline needs a few (see docs/configuration.md)`);
    return { report, pipelines: [] };
  }
  const syntaxError = doc.errors[0];
  if (syntaxError !== undefined) {
    // Only the first: the errors after a syntax error are mostly its echoes.
    report.addAtOffset(syntaxError.pos[0], masked.restore(syntaxError.message));
    return { report, pipelines: [] };
  }
  if (masked.text !== text) restoreReferences(doc, masked);
  if (doc.contents === null) {
    report.addAtOffset(0, 'the file is empty (see docs/configuration.md)');
    return { report, pipelines: [] };
  }
  const baseDir = options.baseDir ?? dirname(resolve(fileName));
  interpolateDocument(doc, options.env, report, options.readSecretFile ?? secretFileReader(baseDir), { keepSecretReferences: options.keepSecretReferences });
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    report.addAtOffset(0, errorMessage(err));
    return { report, pipelines: [] };
  }
  if (!isObject(data)) {
    report.add([], 'a pipeline file is a mapping: name, source, transforms, sink… or pipelines: […] (see docs/configuration.md)');
    return { report, pipelines: [] };
  }
  const form = formOf(data);
  const errors = validateAgainst(shapeOf(form), data);
  for (const p of schemaProblems(errors, data)) report.add(p.path, p.message, { key: p.atKey });

  const ctx = { registry: options.registry, report, baseDir, probes };
  const names = new Map<string, DocPath>();
  const pipelines: PipelineSpec[] = [];
  for (const raw of collectPipelines(form, data, report)) {
    const spec = buildPipeline(raw, names, ctx);
    if (spec !== undefined) pipelines.push(spec);
  }
  return { report, pipelines };
}

/** Reads a pipeline file and validates it, probes included unless `probe: false` (see checkPipelineText). NOT_FOUND when there is no such file. */
export async function loadPipelineFile(path: string, options: LoadOptions): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new WireError('NOT_FOUND', `pipeline file not found: ${path}`, { path }, err);
    throw new WireError('INVALID_INPUT', `cannot read pipeline file ${path}: ${errorMessage(err)}`, { path }, err);
  }
  const parseOptions = { ...options, baseDir: dirname(resolve(path)) };
  return options.probe === false ? parsePipelineText(text, path, parseOptions) : checkPipelineText(text, path, parseOptions);
}
