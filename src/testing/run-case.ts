import { tmpdir } from 'node:os';
import { WireError, errorMessage } from '../core/errors.js';
import type { LineFormat } from '../core/line-block.js';
import type { PipelineSpec } from '../core/pipeline.js';
import type { ComponentRegistry } from '../core/ports.js';
import type { WireRecord } from '../core/record.js';
import { fixWallClock } from '../core/wall-clock.js';
import { MemoryCheckpointStore } from '../engine/memory-checkpoint-store.js';
import { runPipeline } from '../engine/runner.js';
import { silentLogger } from '../observability/logger.js';
import { diffLists, fitsDeadLetter, inExpectedOrder, sameValue } from './compare.js';
import { TEST_DEAD_LETTER, TEST_INPUT, TEST_OUTPUT, recordsOfLines, testRegistry, type TestCapture } from './components.js';
import type { TestCase } from './test-file.js';
import { virtualClock } from './virtual-clock.js';

/** What one test found: nothing wrong, or each difference as lines to print. */
export interface CaseResult {
  readonly name: string;
  readonly failures: readonly string[];
}

/** Records are read as lines of text when the pipeline's source reads them so (`format: lines`), else as JSON. */
function inputFormat(spec: PipelineSpec): LineFormat {
  return spec.source.config['format'] === 'lines' ? 'lines' : 'jsonl';
}

function inputRecords(spec: PipelineSpec, testCase: TestCase): WireRecord[] {
  const format = inputFormat(spec);
  if (testCase.input_lines !== undefined) {
    const written = spec.source.config['format'];
    if (written === 'csv' || written === 'json') {
      throw new WireError('INVALID_INPUT', `input_lines are read as JSON lines or text, not as the source's format: ${written}; give input (the records' values)`);
    }
    return recordsOfLines(testCase.input_lines, format);
  }
  const values = testCase.input ?? [];
  if (format === 'jsonl') return recordsOfLines(values.map((v) => JSON.stringify(v)), format);
  return recordsOfLines(
    values.map((v, i) => {
      if (typeof v === 'string' && !v.includes('\n')) return v;
      throw new WireError('INVALID_INPUT', `input[${i}]: the source reads lines of text (format: lines): give a string of one line`);
    }),
    format,
  );
}

/** A dead letter as a diff shows it: without its time, which differs on every run. */
function showDeadLetter(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const { time: _time, ...rest } = value as Record<string, unknown>;
  return JSON.stringify(rest);
}

/**
 * Runs one test through the engine: the pipeline as written, its source replaced by the test's input and its sinks
 * by ones that keep what they receive, transforms on the main thread (where the wall clock is fixed at `clockMs`),
 * and time that does not wait (rate limits and backoffs pass at once). Then compares what came out.
 */
export async function runCase(pipeline: PipelineSpec, testCase: TestCase, registry: ComponentRegistry, clockMs: number): Promise<CaseResult> {
  const capture: TestCapture = { output: [], deadLetters: [] };
  const spec: PipelineSpec = {
    ...pipeline,
    source: { type: TEST_INPUT, config: {} },
    sink: { type: TEST_OUTPUT, config: {} },
    ...(pipeline.deadLetter === undefined ? {} : { deadLetter: { type: TEST_DEAD_LETTER, config: {} } }),
    workers: 0,
  };
  const failures: string[] = [];
  let input: WireRecord[];
  try {
    input = inputRecords(pipeline, testCase);
  } catch (error) {
    return { name: testCase.name, failures: [errorMessage(error)] };
  }
  fixWallClock(clockMs);
  let summary;
  try {
    const handle = runPipeline({
      spec,
      registry: testRegistry(registry, input, capture),
      checkpointStore: new MemoryCheckpointStore(),
      dataDir: tmpdir(),
      logger: silentLogger(),
      clock: virtualClock(),
      random: () => 0.5,
    });
    summary = await handle.done;
  } catch (startError) {
    // The engine refused the pipeline before running it: this test's failure, not the whole suite's.
    return { name: testCase.name, failures: [`the pipeline could not start: ${errorMessage(startError)}`] };
  } finally {
    fixWallClock(undefined);
  }

  const error = summary.state === 'failed' ? (summary.error?.message ?? 'the pipeline failed') : undefined;
  if (testCase.error === undefined && error !== undefined) failures.push(`the pipeline failed: ${error}`);
  if (testCase.error !== undefined && error === undefined) failures.push(`expected the pipeline to fail with "${testCase.error}", but it ended without error`);
  if (testCase.error !== undefined && error !== undefined && !error.includes(testCase.error)) {
    failures.push(`expected the pipeline to fail with "${testCase.error}", but it failed with: ${error}`);
  }
  // After an expected failure, only what the test names is compared: what was written before it depends on batching.
  const compareAll = testCase.error === undefined;
  if (compareAll || testCase.output !== undefined) {
    const expected = testCase.output ?? [];
    const actual = testCase.ordered === false ? inExpectedOrder(expected, capture.output, sameValue) : capture.output;
    const diff = diffLists(expected, actual, sameValue, (v) => JSON.stringify(v));
    if (diff !== undefined) failures.push(`output (- expected, + actual):\n${diff.map((l) => '  ' + l).join('\n')}`);
  }
  if (pipeline.deadLetter === undefined && (testCase.dead_letters ?? []).length > 0) {
    failures.push(`expects dead letters, but pipeline ${pipeline.name} has no dead_letter sink`);
  } else if (compareAll || testCase.dead_letters !== undefined) {
    const diff = diffLists(testCase.dead_letters ?? [], capture.deadLetters, fitsDeadLetter, showDeadLetter);
    if (diff !== undefined) failures.push(`dead letters (- expected, + actual):\n${diff.map((l) => '  ' + l).join('\n')}`);
  }
  if (testCase.dropped !== undefined && summary.dropped !== testCase.dropped) {
    failures.push(`dropped: expected ${testCase.dropped}, got ${summary.dropped}`);
  }
  return { name: testCase.name, failures };
}
