// The benchmark cases of issue 2 §8, and the pipeline file each one runs.
import type { RecordKind } from './generate.js';

export interface BenchCase {
  readonly name: string;
  readonly records: number;
  readonly kind: RecordKind;
  /** Wire's pipeline: transforms and workers; source and sink are always file → file. */
  readonly transforms: boolean;
  /** The pipeline's `workers`; undefined leaves the default (`auto`). */
  readonly workers?: number;
  /** The hand-written program the ratio is taken against (the target's reference). */
  readonly baseline: 'copy' | 'single' | 'workers-2';
  /** The target, as a ratio of the baseline or as absolute records/s. */
  readonly target: { readonly ratio?: number; readonly recordsPerSecond?: number };
}

export const PEAK_RSS_TARGET_MB = 300;

export function benchCases(scale: number): BenchCase[] {
  const small = Math.max(1000, Math.round(2_000_000 * scale));
  const big = Math.max(1000, Math.round(200_000 * scale));
  // The cases run with the defaults a user gets (one lane, `workers: auto`), except where a case names
  // its workers. `-1thread` pins the main thread alone and compares it with the one-thread program.
  return [
    { name: 'passthrough-100B', records: small, kind: 'small', transforms: false, baseline: 'copy', target: { recordsPerSecond: 2_000_000 } },
    { name: 'filter-map-100B-1lane', records: small, kind: 'small', transforms: true, baseline: 'workers-2', target: { ratio: 0.9 } },
    { name: 'filter-map-100B-1lane-1thread', records: small, kind: 'small', transforms: true, workers: 0, baseline: 'single', target: { ratio: 0.9 } },
    { name: 'filter-map-100B-2workers', records: small, kind: 'small', transforms: true, workers: 2, baseline: 'workers-2', target: { ratio: 0.9 } },
    { name: 'filter-map-1KB-1lane', records: big, kind: 'big', transforms: true, baseline: 'workers-2', target: { ratio: 0.9 } },
  ];
}

/** The pipeline file for a case, as YAML. Paths are absolute, so the file can live anywhere. */
export function pipelineYaml(c: BenchCase, input: string, output: string): string {
  const transforms = c.transforms
    ? [
        'transforms:',
        '  - type: filter',
        '    config: { expr: "amount > 100" }',
        '  - type: map',
        '    config: { set: { user: "upper(user)", total: "amount * 1.2" } }',
      ]
    : [];
  return [
    `name: ${c.name.toLowerCase()}`,
    'source:',
    '  type: file',
    `  config: { path: ${JSON.stringify(input)}, format: jsonl }`,
    ...transforms,
    'sink:',
    '  type: file',
    `  config: { path: ${JSON.stringify(output)}, format: jsonl }`,
    ...(c.workers === undefined ? [] : [`workers: ${c.workers}`]),
    '',
  ].join('\n');
}
