// `workers: auto`: how many worker threads a pipeline gets when the user leaves the choice to the engine.
import type { SourceProgress } from '../core/ports.js';

/**
 * Below this much input the ~0.1 s it takes workers to start and load the transforms costs more than a
 * second core saves (the main thread transforms ~60 MB/s of small JSON records on the benchmark machine).
 */
export const AUTO_MIN_BYTES = 16 * 1024 * 1024;
/** Past this, more workers only add messages and memory: the main thread's reads and writes are the limit. */
export const AUTO_MAX_WORKERS = 8;
/**
 * Workers pay for the work done per record (parsing, expressions, rendering an object), not for the work
 * per byte, which the main thread's reads and writes and the hand-over add back. Measured with the benchmark's
 * filter+map on 2 cores, 2 workers against the main thread alone: ~100 B records 1.35× faster, ~300 B 1.1×,
 * ~500 B even, ~1 KB 2–10 % slower (docs/performance.md). So `auto` wants records that average under this.
 */
export const AUTO_MAX_RECORD_BYTES = 400;

export interface AutoWorkersInput {
  /** The pipeline moves line blocks (source and sink both take them; one lane; no rate limit). */
  readonly blockPath: boolean;
  /** Whether each transform of the chain declares itself stateless; empty when there are none. */
  readonly stateless: readonly boolean[];
  /** Cores this process may use (`os.availableParallelism()`). */
  readonly cores: number;
  /** What the source knows of its size, after it opened (so a resumed file counts only what is left). */
  readonly source: SourceProgress | undefined;
  /** Below this many bytes left to read, no workers. */
  readonly minBytes: number;
}

/**
 * One worker per core (capped), where measurement says they might pay: a large input on the line-block path,
 * where a block crosses to a worker by transfer and comes back as bytes. The engine then looks at the first
 * block, and starts them only if its records are small (`AUTO_MAX_RECORD_BYTES`). Two workers on two cores beat one
 * lane by ~1.4× on the benchmark, while one worker does not beat the main thread at all: the worker then does
 * the same work while the main thread waits, so auto never picks 1. Nothing else gets workers: not the
 * record path (records cross as copies), not a source of unknown size (a stream may be small), and not a
 * chain with a transform that may keep state between records (`js`), whose behaviour would then depend on
 * which thread saw which record.
 */
export function autoWorkerCount(input: AutoWorkersInput): number {
  if (!input.blockPath) return 0;
  // Without transforms workers would only check lines: measured slower than checking them on the main thread.
  if (input.stateless.length === 0 || input.stateless.includes(false)) return 0;
  const source = input.source;
  if (source === undefined || source.unit !== 'bytes' || source.total - source.done < input.minBytes) return 0;
  return autoWorkerLimit(input.cores);
}

/** Average bytes per line of newline-terminated `data` (one line when it holds no newline). */
export function averageLineBytes(data: Uint8Array): number {
  let lines = 0;
  for (let at = data.indexOf(10); at >= 0; at = data.indexOf(10, at + 1)) lines++;
  return data.length / Math.max(1, lines);
}

/** The most workers `auto` can choose on this machine (none on one core): also sizes the in-flight window. */
export function autoWorkerLimit(cores: number): number {
  return cores < 2 ? 0 : Math.min(cores, AUTO_MAX_WORKERS);
}
