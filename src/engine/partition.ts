import type { Batch } from '../core/record.js';

/** FNV-1a over UTF-16 code units: cheap, stable across runs and processes, spreads short keys well. */
export function laneOfKey(key: string, lanes: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % lanes;
}

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
