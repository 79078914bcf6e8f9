import type { LineFormat } from '../core/line-block.js';
import { lineCheckOf, lineRecords } from '../core/line-block.js';
import { LineDecoder } from '../core/lines.js';
import type { ComponentDefinition, ComponentKind, ComponentRegistry, Sink, Source } from '../core/ports.js';
import type { Batch, WireRecord } from '../core/record.js';

/** Types a test swaps in for the pipeline's source, sink and dead-letter sink; the transforms stay as written. */
export const TEST_INPUT = 'wire-test-input';
export const TEST_OUTPUT = 'wire-test-output';
export const TEST_DEAD_LETTER = 'wire-test-dead-letter';

/**
 * The records a test's lines stand for, cut and checked as a line source does (a malformed jsonl line is an
 * unreadable record, which the engine dead-letters at stage `source`); each record's position is its line number.
 */
export function recordsOfLines(lines: readonly string[], format: LineFormat): WireRecord[] {
  const records: WireRecord[] = [];
  const lineAt = new Map<number, number>();
  let end = 0;
  const bytes = Buffer.from(lines.map((l) => l + '\n').join(''), 'utf8');
  lines.forEach((line, i) => {
    end += Buffer.byteLength(line, 'utf8') + 1;
    lineAt.set(end, i + 1);
  });
  const handler = lineRecords(format, false, (r) => records.push(r), (at) => lineAt.get(at));
  new LineDecoder(0, lineCheckOf(format)).push(bytes, 0, bytes.length, handler);
  return records;
}

function inputSource(records: readonly WireRecord[]): Source {
  return {
    open: async () => {},
    async *read(max: number): AsyncIterable<Batch> {
      for (let i = 0; i < records.length; i += max) yield records.slice(i, i + max);
    },
    ack: async () => {},
    close: async () => {},
  };
}

/** A sink that keeps each record's value as a JSON sink would write it. */
function collectingSink(into: unknown[]): Sink {
  return {
    open: async () => {},
    write: async (batch: Batch) => {
      for (const record of batch) into.push(JSON.parse(record.json()) as unknown);
    },
    flush: async () => {},
    close: async () => {},
  };
}

function definition(kind: ComponentKind, type: string, create: () => Source | Sink): ComponentDefinition {
  return { kind, type, description: 'wire test', schema: { type: 'object' }, create };
}

/** What one test run read and what reached its sinks. */
export interface TestCapture {
  readonly output: unknown[];
  readonly deadLetters: unknown[];
}

/** The pipeline's registry with the test's source and sinks added; each run gets its own. */
export function testRegistry(base: ComponentRegistry, input: readonly WireRecord[], capture: TestCapture): ComponentRegistry {
  const own = [
    definition('source', TEST_INPUT, () => inputSource(input)),
    definition('sink', TEST_OUTPUT, () => collectingSink(capture.output)),
    definition('sink', TEST_DEAD_LETTER, () => collectingSink(capture.deadLetters)),
  ];
  return {
    get: (kind, type) => own.find((d) => d.kind === kind && d.type === type) ?? base.get(kind, type),
    list: (kind) => [...base.list(kind), ...own.filter((d) => kind === undefined || d.kind === kind)],
  };
}
