// Streaming checks of large JSON-lines files: never loads a whole file in memory.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';

/** Writes `count` lines made by `line(i)`, in blocks, and returns the file's size. */
export async function writeLines(path: string, count: number, line: (i: number) => string): Promise<number> {
  const file = await open(path, 'w');
  let bytes = 0;
  try {
    for (let start = 0; start < count; start += 10_000) {
      const block: string[] = [];
      for (let i = start; i < Math.min(count, start + 10_000); i++) block.push(line(i));
      const text = block.join('\n') + '\n';
      bytes += Buffer.byteLength(text);
      await file.write(text);
    }
  } finally {
    await file.close();
  }
  return bytes;
}

export interface LineCheck {
  readonly lines: number;
  /** The first line that differs from what was expected, if any. */
  readonly mismatch?: { readonly index: number; readonly actual: string; readonly expected: string | undefined };
}

/**
 * Reads `path` line by line and checks line i against `expected(i)` (undefined: no line expected).
 * Stops at the first mismatch.
 */
export async function checkLines(path: string, expected: (i: number) => string | undefined): Promise<LineCheck> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 64 * 1024 });
  const reader = createInterface({ input: stream, crlfDelay: Infinity });
  let index = 0;
  try {
    for await (const actual of reader) {
      const want = expected(index);
      if (actual !== want) return { lines: index, mismatch: { index, actual, expected: want } };
      index++;
    }
    return { lines: index };
  } finally {
    reader.close();
    stream.destroy();
  }
}

export interface RecordCheck {
  readonly lines: number;
  /** The first problem found: a line not expected, or a record seen twice. */
  readonly problem?: string;
  /** How many of the expected records are missing. */
  readonly missing: number;
}

/**
 * For output whose lines may interleave (several lanes): checks that each of records 0..count-1 appears exactly
 * once, as `expected(n)` with `n` from `parse(line)`.
 */
export async function checkRecords(
  path: string,
  count: number,
  parse: (line: string) => number | undefined,
  expected: (n: number) => string,
): Promise<RecordCheck> {
  const seen = new Uint8Array(count);
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 64 * 1024 });
  const reader = createInterface({ input: stream, crlfDelay: Infinity });
  let lines = 0;
  let problem: string | undefined;
  try {
    for await (const line of reader) {
      lines++;
      if (problem !== undefined) continue;
      const n = parse(line);
      if (n === undefined || n < 0 || n >= count || line !== expected(n)) problem = `line ${lines}: unexpected ${line}`;
      else if (seen[n] === 1) problem = `line ${lines}: record ${n} again`;
      else seen[n] = 1;
    }
  } finally {
    reader.close();
    stream.destroy();
  }
  let missing = 0;
  for (let n = 0; n < count; n++) if (seen[n] === 0) missing++;
  return problem === undefined ? { lines, missing } : { lines, missing, problem };
}
