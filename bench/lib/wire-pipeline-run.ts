// One timed `wire run --json` of a pipeline for the connector rows in bench/connector-*.ts: the run must end by
// itself (a finite source) having delivered `records`; its time is the engine's own (summary `elapsed_s`: from
// opening the connectors to the last checkpoint acknowledged), without the process's start-up.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jsonLines, runChild } from './child.js';

export interface WireRunOptions {
  readonly wire: string;
  readonly dir: string;
}

/** Seconds the run of `source` → `sink` (YAML flow maps) took; throws unless it delivered exactly `records`. */
export async function wirePipelineRun(o: WireRunOptions, name: string, source: string, sink: string, records: number): Promise<number> {
  const file = join(o.dir, `${name}.yaml`);
  await writeFile(file, `name: ${name}\nsource: ${source}\nsink: ${sink}\n`);
  const result = await runChild(process.execPath, [o.wire, 'run', '--json', '--data-dir', join(o.dir, `${name}.data`), file], {
    cwd: o.dir,
    tmpDir: o.dir,
    timeoutMs: 10 * 60_000,
    label: `${name}-wire`,
  });
  const summary = jsonLines(result.stderr).find((line) => line.type === 'summary');
  if (result.code !== 0 || summary === undefined) throw new Error(`${name}: wire run failed (${result.code}):\n${result.stderr.slice(-2000)}`);
  if (Number(summary.records_out) !== records) throw new Error(`${name}: wire delivered ${String(summary.records_out)} of ${records} records`);
  return Number(summary.elapsed_s);
}

/**
 * A row of the connector table (bench/connectors.ts prints it with its ratios): each side's seconds round by round, the
 * two sides run one after the other in every round, so `wireSeconds[i]` and `bareSeconds[i]` were measured together.
 */
export interface ConnectorRow {
  readonly name: string;
  readonly records: number;
  readonly wireSeconds: readonly number[];
  readonly bareSeconds: readonly number[];
  readonly baseline: string;
}
