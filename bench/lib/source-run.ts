// `wire run --json` of a connector's source into the drop sink, for the source rows of `npm run bench`
// (bench/connector-*-source.ts). A finite source (s3) ends by itself: its time is the summary's elapsed_s. A stream
// source (kafka, redis, nats) never ends: the bench polls the server until it shows every record acknowledged (the
// group's offsets, XPENDING, the consumer's ack floor), then stops the run with SIGTERM. Its time is from the start of
// the pipeline to that moment: elapsed_s less the drain that followed, measured from the ack seen to the summary line.
// The bare clients (bench/baseline/*.mjs) run in processes of their own too, timed from importing their client
// library: Wire's time includes loading it (a connector loads its client only when a pipeline uses it).
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jsonLines, runChild } from './child.js';

export interface SourceRunOptions {
  readonly wire: string;
  readonly dir: string;
}

/** Milliseconds between two looks at the server: small beside a run of seconds, light on the server. */
const POLL_MS = 20;
const TIMEOUT_MS = 10 * 60_000;

/**
 * Seconds for Wire to read `records` records from `source` (a YAML flow mapping) and have them acknowledged.
 * `acknowledged` answers whether the server shows all of them acknowledged; without it the source must end by itself.
 */
export async function wireSourceSeconds(
  o: SourceRunOptions,
  name: string,
  source: string,
  records: number,
  acknowledged?: () => Promise<boolean>,
): Promise<number> {
  const file = join(o.dir, `${name}.yaml`);
  await writeFile(file, `name: ${name}\nsource: ${source}\nsink: { type: drop }\n`);
  const child = spawn(process.execPath, [o.wire, 'run', '--json', '--data-dir', join(o.dir, `${name}.data`), file], { cwd: o.dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let summaryAt: number | undefined;
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
    if (summaryAt === undefined && stderr.includes('"type":"summary"')) summaryAt = performance.now();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
  let ackedAt: number | undefined;
  try {
    if (acknowledged !== undefined) {
      let running = true;
      const over = (): void => void (running = false);
      exited.then(over, over);
      while (running && !(await acknowledged())) await new Promise((r) => setTimeout(r, POLL_MS));
      if (!running) throw new Error(`${name}: wire run ended before every record was acknowledged:\n${stderr.slice(-2000)}`);
      ackedAt = performance.now();
      child.kill('SIGTERM');
    }
    const code = await exited;
    const summary = jsonLines(stderr).find((line) => line.type === 'summary');
    if (code !== 0 || summary === undefined || summaryAt === undefined) throw new Error(`${name}: wire run failed (${code}):\n${stderr.slice(-2000)}`);
    if (Number(summary.records_out) !== records) throw new Error(`${name}: wire read ${String(summary.records_out)} of ${records} records`);
    const elapsed = Number(summary.elapsed_s);
    return ackedAt === undefined ? elapsed : elapsed - (summaryAt - ackedAt) / 1000;
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/**
 * Seconds the bare client's program (bench/baseline/<program>) took to read and acknowledge, or to write, `records`
 * records: it runs in a process of its own and times itself from importing its client library, as Wire's run loads it
 * (every connector row's bare client runs so, sinks' too: in the bench process it would run JIT-warm from earlier
 * rounds, with its library loaded before its timer started).
 */
export async function bareProgramSeconds(o: SourceRunOptions, program: string, args: readonly string[], records: number): Promise<number> {
  const result = await runChild(process.execPath, [join(import.meta.dirname, '..', 'baseline', program), ...args], {
    cwd: o.dir,
    tmpDir: o.dir,
    timeoutMs: TIMEOUT_MS,
    label: program,
  });
  const report = jsonLines(result.stdout)[0];
  if (result.code !== 0 || report === undefined) throw new Error(`${program} failed (${result.code}):\n${result.stderr.slice(-2000)}`);
  if (Number(report.records) !== records) throw new Error(`${program} read ${String(report.records)} of ${records} records`);
  return Number(report.seconds);
}

/** The records preloaded into every system: the same documents as the sink rows write. */
export const sourceRecord = (n: number): string => JSON.stringify({ n, payload: `p${(n * 7919) % 100_003}` });

