import { WireError } from '../../src/core/errors.js';
import type { Transform, TransformContext } from '../../src/core/ports.js';
import { WireRecord } from '../../src/core/record.js';
import { compileExpression } from '../../src/transforms/expr/index.js';

export const evaluate = (source: string, value: unknown = {}): unknown => compileExpression(source)(value);

/** The WireError thrown by `fn`, for assertions on its message and column. */
export function caught(fn: () => unknown): WireError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WireError) return err;
    throw new Error(`expected a WireError, got ${String(err)}`);
  }
  throw new Error('expected a WireError, nothing was thrown');
}

export const compileFailure = (source: string): WireError => caught(() => compileExpression(source));

export interface Rejected {
  readonly record: WireRecord;
  readonly error: unknown;
}

/** Runs a batch of values through a transform, collecting what passes and what is rejected. */
export async function run(transform: Transform, values: readonly unknown[]): Promise<{ out: WireRecord[]; rejected: Rejected[] }> {
  return runRecords(transform, values.map((v) => WireRecord.fromValue(v)));
}

export async function runRecords(transform: Transform, batch: WireRecord[]): Promise<{ out: WireRecord[]; rejected: Rejected[] }> {
  const rejected: Rejected[] = [];
  const ctx: TransformContext = { reject: (record, error) => rejected.push({ record, error }) };
  const out = await transform.process(batch, ctx);
  return { out, rejected };
}
