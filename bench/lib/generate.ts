// Benchmark inputs: JSON lines written in 10,000-record blocks, so generating 2M records stays fast
// and memory stays flat. Deterministic: the same count and kind always give the same bytes.
import { open } from 'node:fs/promises';

export type RecordKind = 'small' | 'big';

const NOTE = 'n'.repeat(880);
const BLOCK = 10_000;

/** One record: ~100 B for `small`, ~1 KB for `big`; amounts spread so ~90 % pass `amount > 100`. */
export function benchRecord(i: number, kind: RecordKind): Record<string, unknown> {
  const base = {
    id: i,
    user: `user${i % 1000}`,
    amount: (i % 997) * 1.5,
    ts: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    tags: ['a', 'b'],
  };
  return kind === 'big' ? { ...base, note: NOTE } : base;
}

/** Writes `count` records to `path`; returns the file's size in bytes. */
export async function generateInput(path: string, count: number, kind: RecordKind): Promise<number> {
  const file = await open(path, 'w');
  let bytes = 0;
  try {
    for (let start = 0; start < count; start += BLOCK) {
      const lines: string[] = [];
      for (let i = start; i < Math.min(count, start + BLOCK); i++) lines.push(JSON.stringify(benchRecord(i, kind)));
      const text = lines.join('\n') + '\n';
      await file.write(text);
      bytes += Buffer.byteLength(text);
    }
  } finally {
    await file.close();
  }
  return bytes;
}
