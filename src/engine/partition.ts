import type { Batch } from '../core/record.js';
import type { ChainResult, Rejected } from './transform-chain.js';

import { laneOfKey } from '../core/key-hash.js';

export { laneOfKey };

/**
 * Splits a batch into one sub-batch per lane: keyed records by the hash of their key (so a key keeps its
 * order), keyless ones all to `keylessLane` (the caller round-robins it per batch). Empty lanes are `undefined`.
 */
export function partition(batch: Batch, lanes: number, keylessLane: number): (Batch | undefined)[] {
  const out = new Array<Batch | undefined>(lanes);
  for (let i = 0; i < batch.length; i++) {
    const record = batch[i]!;
    const lane = record.key === undefined ? keylessLane : laneOfKey(record.key, lanes);
    const sub = out[lane];
    if (sub === undefined) out[lane] = [record];
    else sub.push(record);
  }
  return out;
}

const NONE: Rejected[] = [];
const NO_COUNTS: number[] = [];

/**
 * Splits a chain's result by the keys the chain left on its records, as `partition` does. The batch's
 * rejected records and stage counts ride with one part only (the first lane that has records, else the
 * keyless lane), so they are delivered and counted once; the result has at least that part.
 */
export function partitionResult(result: ChainResult, lanes: number, keylessLane: number): (ChainResult | undefined)[] {
  const subs = partition(result.records, lanes, keylessLane);
  const out = new Array<ChainResult | undefined>(lanes);
  let carrier = -1;
  for (let lane = 0; lane < lanes; lane++) {
    const records = subs[lane];
    if (records === undefined) continue;
    if (carrier < 0) carrier = lane;
    out[lane] = { records, rejected: NONE, counts: NO_COUNTS };
  }
  if (carrier < 0) carrier = keylessLane;
  out[carrier] = { records: subs[carrier] ?? [], rejected: result.rejected, counts: result.counts };
  return out;
}
