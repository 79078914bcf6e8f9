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
