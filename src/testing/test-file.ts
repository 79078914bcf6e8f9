import { readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Type, type Static } from '@sinclair/typebox';
import { LineCounter, parseDocument } from 'yaml';
import { WireError, errorMessage } from '../core/errors.js';
import type { Problem } from '../config/problem.js';
import { Reporter } from '../config/reporter.js';
import { schemaProblems } from '../config/schema-errors.js';
import { validateAgainst } from '../config/schema-validator.js';
import { SourceMap } from '../config/source-map.js';

/** Tests of `foo.yaml` live beside it in `foo.test.yaml` (or `.yml`). */
export const TEST_FILE = /\.test\.ya?ml$/;

/** When a test file names no clock: a fixed instant, so `now()` gives the same value on every run. */
export const DEFAULT_CLOCK = '2024-01-01T00:00:00Z';

const TestCaseShape = Type.Object(
  {
    name: Type.String({ minLength: 1, description: 'What the test shows; printed with its result.' }),
    pipeline: Type.Optional(Type.String({ description: 'The pipeline under test, when the file defines several.' })),
    input: Type.Optional(Type.Array(Type.Unknown(), { description: "Records' values, in order, as the source would read them." })),
    input_lines: Type.Optional(
      Type.Array(Type.String(), { description: "Lines as the source would read them (jsonl: each a JSON text; a malformed one is an unreadable record)." }),
    ),
    output: Type.Optional(Type.Array(Type.Unknown(), { description: 'The values the sink must receive, in order (default: none).' })),
    ordered: Type.Optional(Type.Boolean({ description: 'false: compare output in any order (for parallelism > 1).' })),
    dead_letters: Type.Optional(
      Type.Array(Type.Record(Type.String(), Type.Unknown()), {
        description: 'The dead letters, in order (default: none); each lists the fields to compare; `error` matches a part of the message.',
      }),
    ),
    dropped: Type.Optional(Type.Integer({ minimum: 0, description: 'Records on_error: drop must have dropped.' })),
    error: Type.Optional(Type.String({ minLength: 1, description: 'The run must fail with an error whose message holds this text.' })),
  },
  { additionalProperties: false },
);

/** The shape of a test file (docs/testing.md). */
export const TestFileShape = Type.Object(
  {
    pipeline_file: Type.Optional(Type.String({ minLength: 1, description: 'The pipeline file, relative to this one (default: this name without .test).' })),
    clock: Type.Optional(
      Type.Union([Type.String(), Type.Integer()], { description: `What now() returns: RFC 3339 or ms since the epoch (default ${DEFAULT_CLOCK}).` }),
    ),
    env: Type.Optional(Type.Record(Type.String(), Type.String(), { description: '${VAR} values for the pipeline file, over the environment.' })),
    tests: Type.Array(TestCaseShape, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type TestCase = Static<typeof TestCaseShape>;

export interface TestFile {
  readonly path: string;
  readonly pipelineFile: string;
  readonly clockMs: number;
  readonly env: Readonly<Record<string, string>>;
  readonly tests: readonly TestCase[];
}

export type ParsedTestFile = { readonly file: TestFile; readonly problems?: undefined } | { readonly problems: Problem[]; readonly file?: undefined };

function defaultPipelineFile(path: string): string {
  return join(dirname(path), basename(path).replace(/\.test(\.ya?ml)$/, '$1'));
}

/** Reads and checks a test file; its problems come with line and column, as a pipeline file's do. */
export async function readTestFile(path: string): Promise<ParsedTestFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'INVALID_INPUT';
    throw new WireError(code, `cannot read test file ${path}: ${errorMessage(err)}`, { path }, err);
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const report = new Reporter(path, new SourceMap(doc, text, lines));
  const syntaxError = doc.errors[0];
  if (syntaxError !== undefined) {
    report.addAtOffset(syntaxError.pos[0], syntaxError.message);
    return { problems: report.list() };
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  for (const p of schemaProblems(validateAgainst(TestFileShape, data), data)) report.add(p.path, p.message, { key: p.atKey });
  if (report.count > 0) return { problems: report.list() };
  const valid = data as Static<typeof TestFileShape>;
  const clock = valid.clock ?? DEFAULT_CLOCK;
  const clockMs = typeof clock === 'number' ? clock : Date.parse(clock);
  if (!Number.isFinite(clockMs)) report.add(['clock'], `'${String(clock)}' is not a time (write RFC 3339, e.g. ${DEFAULT_CLOCK}, or ms since the epoch)`);
  valid.tests.forEach((t, i) => {
    if (t.input !== undefined && t.input_lines !== undefined) report.add(['tests', i, 'input_lines'], 'give input or input_lines, not both');
  });
  if (report.count > 0) return { problems: report.list() };
  const pipelineFile = valid.pipeline_file === undefined ? defaultPipelineFile(path) : resolve(dirname(path), valid.pipeline_file);
  return { file: { path, pipelineFile, clockMs, env: valid.env ?? {}, tests: valid.tests } };
}
