import { errorMessage } from '../core/errors.js';
import { formatProblem, loadPipelineFile } from '../config/index.js';
import type { ComponentRegistry } from '../core/ports.js';
import type { Env } from '../config/interpolate.js';
import { runCase, type CaseResult } from './run-case.js';
import { readTestFile } from './test-file.js';

/** One test file's outcome: problems that kept its tests from running (formatted), or each test's result. */
export interface FileResult {
  readonly path: string;
  readonly problems: readonly string[];
  readonly cases: readonly CaseResult[];
}

export interface SuiteOptions {
  readonly registry: ComponentRegistry;
  /** The environment `${VAR}` reads from; a test file's `env:` goes over it. */
  readonly env: Env;
}

/** Reads a test file and its pipeline file and runs every test of it, one after another. */
export async function runTestFile(path: string, options: SuiteOptions): Promise<FileResult> {
  const parsed = await readTestFile(path);
  if (parsed.problems !== undefined) return { path, problems: parsed.problems.map(formatProblem), cases: [] };
  const { file } = parsed;
  let loaded;
  try {
    loaded = await loadPipelineFile(file.pipelineFile, { env: { ...options.env, ...file.env }, registry: options.registry });
  } catch (error) {
    // A missing pipeline file is this test file's problem; the other files' tests still run.
    return { path, problems: [`${path}: ${errorMessage(error)}`], cases: [] };
  }
  if (loaded.problems !== undefined) return { path, problems: loaded.problems.map(formatProblem), cases: [] };
  const cases: CaseResult[] = [];
  for (const testCase of file.tests) {
    const names = loaded.pipelines.map((p) => p.name);
    const pipeline =
      testCase.pipeline === undefined ? (loaded.pipelines.length === 1 ? loaded.pipelines[0] : undefined) : loaded.pipelines.find((p) => p.name === testCase.pipeline);
    if (pipeline === undefined) {
      const failure =
        testCase.pipeline === undefined
          ? `${file.pipelineFile} defines ${names.length} pipelines (${names.join(', ')}): name one with pipeline:`
          : `${file.pipelineFile} has no pipeline '${testCase.pipeline}' (it has ${names.join(', ')})`;
      cases.push({ name: testCase.name, failures: [failure] });
      continue;
    }
    cases.push(await runCase(pipeline, testCase, options.registry, file.clockMs));
  }
  return { path, problems: [], cases };
}
