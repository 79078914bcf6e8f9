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

/** Orders two stream ids as Redis does: by time, then sequence. */
export function compareStreamIds(a: string, b: string): number {
  const x = parseStreamId(a)!;
  const y = parseStreamId(b)!;
  return x[0] - y[0] || x[1] - y[1];
}

/** A checkpointed position read back: it must be a stream id, else the checkpoint is not this source's. */
export function streamIdOf(position: Position | undefined): string | undefined {
  if (position === undefined || position === null) return undefined;
  if (typeof position === 'string' && parseStreamId(position) !== undefined) return position;
  throw new WireError('INVALID_INPUT', `redis source: checkpoint position ${JSON.stringify(position)} is not a stream entry id`);
}
