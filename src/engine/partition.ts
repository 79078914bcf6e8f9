import type { Batch } from '../core/record.js';

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
