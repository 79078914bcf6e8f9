// The two ratios a connector row of `npm run bench` prints (bench/connectors.ts).
import type { ConnectorRow } from './wire-pipeline-run.js';

/**
 * A row's two ratios of bare seconds to Wire's: `best`, each side's best round against the other's (what the target
 * is judged on), and `paired`, the median of the rounds' own ratios (the two sides of a round ran one right after the other,
 * so a slow spell of the machine weighs on both; best-of-N taken for each side alone does not cancel that).
 */
export function ratios(row: Pick<ConnectorRow, 'wireSeconds' | 'bareSeconds'>): { best: number; paired: number } {
  if (row.wireSeconds.length === 0 || row.wireSeconds.length !== row.bareSeconds.length) throw new Error('a row needs as many bare rounds as Wire rounds, at least one');
  const each = row.bareSeconds.map((bare, i) => bare / row.wireSeconds[i]!).sort((a, b) => a - b);
  const middle = each.length >> 1;
  const paired = each.length % 2 === 1 ? each[middle]! : (each[middle - 1]! + each[middle]!) / 2;
  return { best: Math.min(...row.bareSeconds) / Math.min(...row.wireSeconds), paired };
}
