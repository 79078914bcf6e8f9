/**
 * How big an append message gets once encoded, so that no message the core builds exceeds the
 * transport's frame limit (`maxMessageBytes`). A message over the limit is dropped by the transport
 * and resent forever while heartbeats still pass: replication would wedge with no election to end it.
 */

/** Encoding cost of one entry beyond its data (msgpack of term, index and type, and the data's header: 48 bytes measured). */
export const ENTRY_OVERHEAD_BYTES = 64;

/** Room kept in every append for its other fields and the two node ids (a few hundred bytes with ids of 100 characters). */
export const ENVELOPE_BYTES = 64 * 1024;

/** Bytes of entries (data plus per-entry overhead) one append may carry under `maxMessageBytes`. */
export function appendBudget(maxMessageBytes: number): number {
  return maxMessageBytes - ENVELOPE_BYTES;
}

/** The largest entry data that still fits in an append of its own. */
export function maxEntryBytes(maxMessageBytes: number): number {
  return appendBudget(maxMessageBytes) - ENTRY_OVERHEAD_BYTES;
}

/** The longest prefix of `entries` (at least one) whose encoding fits in one append under `maxMessageBytes`. */
export function fitAppend<E extends { readonly data: Uint8Array }>(entries: readonly E[], maxMessageBytes: number): readonly E[] {
  const budget = appendBudget(maxMessageBytes);
  let bytes = 0;
  for (let i = 0; i < entries.length; i++) {
    bytes += entries[i]!.data.byteLength + ENTRY_OVERHEAD_BYTES;
    if (bytes > budget && i > 0) return entries.slice(0, i);
  }
  return entries;
}
