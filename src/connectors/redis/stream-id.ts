import { WireError } from '../../core/errors.js';
import type { Position } from '../../core/record.js';

/** A stream entry id `ms-seq`, as its two numbers (both below 2^53 for any clock this side of year 287,396). */
export function parseStreamId(id: string): readonly [number, number] | undefined {
  const match = /^(\d+)-(\d+)$/.exec(id);
  if (match === null) return undefined;
  const ms = Number(match[1]);
  const seq = Number(match[2]);
  return Number.isSafeInteger(ms) && Number.isSafeInteger(seq) ? [ms, seq] : undefined;
}

/**
 * Orders two stream ids as Redis does: by time, then sequence. Ids are well formed (from Redis, or checked by
 * `streamIdOf`); called for every entry read and acknowledged, so it neither matches a pattern nor allocates.
 */
export function compareStreamIds(a: string, b: string): number {
  const aDash = a.indexOf('-');
  const bDash = b.indexOf('-');
  return compareDecimals(a, 0, aDash, b, 0, bDash) || compareDecimals(a, aDash + 1, a.length, b, bDash + 1, b.length);
}

/** Compares the decimal numbers `a[aFrom, aTo)` and `b[bFrom, bTo)` of any length: without leading zeros, the longer is larger. */
function compareDecimals(a: string, aFrom: number, aTo: number, b: string, bFrom: number, bTo: number): number {
  while (aFrom < aTo - 1 && a.charCodeAt(aFrom) === 0x30) aFrom++;
  while (bFrom < bTo - 1 && b.charCodeAt(bFrom) === 0x30) bFrom++;
  const length = aTo - aFrom - (bTo - bFrom);
  if (length !== 0) return length;
  for (let i = 0; i < aTo - aFrom; i++) {
    const digit = a.charCodeAt(aFrom + i) - b.charCodeAt(bFrom + i);
    if (digit !== 0) return digit;
  }
  return 0;
}

/** A checkpointed position read back: it must be a stream id, else the checkpoint is not this source's. */
export function streamIdOf(position: Position | undefined): string | undefined {
  if (position === undefined || position === null) return undefined;
  if (typeof position === 'string' && parseStreamId(position) !== undefined) return position;
  throw new WireError('INVALID_INPUT', `redis source: checkpoint position ${JSON.stringify(position)} is not a stream entry id`);
}
