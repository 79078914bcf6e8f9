/**
 * Measures the file source's raw read speed (run: `npx tsx test/connectors/measure-file-read.ts [N]`):
 * N (default 2,000,000) JSON lines of ~100 B in a temp dir, read to the end with no transform or sink,
 * beside a hand-written baseline (64 KiB reads, manual newline split, one string per line) in the same run.
 * Prints figures only: timings on shared machines are too noisy to assert.
 */
import { open, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileSource } from '../../src/connectors/sources/file.js';

async function generate(path: string, n: number): Promise<void> {
  const fh = await open(path, 'w');
  try {
    const users = ['alice', 'bob', 'carol', 'dave', 'erin'];
    let chunk = '';
    for (let i = 0; i < n; i++) {
      chunk += `{"id":${i},"user":"${users[i % 5]}","amount":${(i * 7919) % 1000},"ts":"2026-11-27T00:00:00.000Z","tag":"x","note":"lorem-ipsum"}\n`;
      if (chunk.length > 1 << 20) {
        await fh.write(chunk);
        chunk = '';
      }
    }
    await fh.write(chunk);
  } finally {
    await fh.close();
  }
}

async function baseline(path: string): Promise<number> {
  const fh = await open(path, 'r');
  const buf = Buffer.allocUnsafe(64 * 1024);
  let carry = '';
  let count = 0;
  let pos = 0;
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      const text = carry + buf.toString('utf8', 0, bytesRead);
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        if (text.slice(start, nl).length > 0) count++;
        start = nl + 1;
      }
      carry = text.slice(start);
    }
  } finally {
    await fh.close();
  }
  return count;
}

async function wire(path: string, format: 'jsonl' | 'lines'): Promise<number> {
  const source = new FileSource({ path, format, follow: false, poll_interval: 250, encoding: 'utf8', strict: false });
  await source.open({ pipeline: 'measure', component: 'source', dataDir: tmpdir(), signal: new AbortController().signal });
  let count = 0;
  try {
    for await (const batch of source.read(1000)) count += batch.length;
  } finally {
    await source.close();
  }
  return count;
}

async function timed(name: string, bytes: number, run: () => Promise<number>): Promise<number> {
  const start = process.hrtime.bigint();
  const records = await run();
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const rate = records / secs;
  console.log(
    JSON.stringify({ case: name, records, seconds: +secs.toFixed(3), records_per_s: Math.round(rate), mb_per_s: +(bytes / secs / 1e6).toFixed(1) }),
  );
  return rate;
}

const n = Number(process.argv[2] ?? 2_000_000);
const dir = await mkdtemp(join(tmpdir(), 'wire-measure-'));
try {
  const path = join(dir, 'in.jsonl');
  await generate(path, n);
  const bytes = (await stat(path)).size;
  console.log(JSON.stringify({ records: n, bytes, bytes_per_record: +(bytes / n).toFixed(1) }));
  for (let round = 1; round <= 2; round++) {
    const base = await timed(`baseline round ${round}`, bytes, () => baseline(path));
    const jsonl = await timed(`file source jsonl round ${round}`, bytes, () => wire(path, 'jsonl'));
    await timed(`file source lines round ${round}`, bytes, () => wire(path, 'lines'));
    console.log(JSON.stringify({ round, jsonl_ratio_to_baseline: +(jsonl / base).toFixed(2) }));
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
