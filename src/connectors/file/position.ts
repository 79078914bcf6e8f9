import { WireError } from '../../core/errors.js';
import type { Position } from '../../core/record.js';

/**
 * Where a file read stands: the byte offset just after the last record (or, for `format: json`, the number of
 * array elements consumed). A single file uses the plain number; a glob names the file, and the files it read to
 * their end before this one (`done`): those stay done, whatever new files appear around them.
 */
export interface FilePosition {
  readonly file: string;
  readonly offset: number;
  /** Missing in checkpoints saved before per-file tracking: then every file sorted before `file` counts as done. */
  readonly done?: readonly string[];
}

function isOffset(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isPathList(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((f) => typeof f === 'string');
}

/** A glob record's position `{ file, offset }` (`done` left out), or undefined for anything else. */
export function fileOffsetOf(position: Position | undefined): FilePosition | undefined {
  if (position === null || typeof position !== 'object' || Array.isArray(position)) return undefined;
  const { file, offset } = position;
  return typeof file === 'string' && isOffset(offset) ? { file, offset } : undefined;
}

/** Reads a checkpointed position back; anything else means the checkpoint is not this source's. */
export function parseFilePosition(from: Position | undefined): FilePosition | number | undefined {
  if (from === undefined || from === null) return undefined;
  if (isOffset(from)) return from;
  if (typeof from === 'object' && !Array.isArray(from)) {
    const { file, offset, done } = from;
    if (typeof file === 'string' && isOffset(offset)) {
      if (done === undefined) return { file, offset };
      if (isPathList(done)) return { file, offset, done };
    }
  }
  throw new WireError('INVALID_INPUT', `file source: checkpoint position ${JSON.stringify(from)} is not a file position`, {
    position: from,
  });
}

/** What a read of a sorted file list does: `queue` in order (its first file from `offset`), having read `done`. */
export interface ReadPlan {
  readonly queue: string[];
  readonly offset: number;
  readonly done: string[];
}

/**
 * Plans a read from a checkpointed position: the checkpointed file first, from its offset, then every listed
 * file not done, in sorted order (a new file is read whatever its name). Files done that are gone are forgotten,
 * so the list does not grow with every file ever rotated away.
 */
export function planRead(listing: readonly string[], from: FilePosition | number | undefined): ReadPlan {
  if (from === undefined) return { queue: [...listing], offset: 0, done: [] };
  if (typeof from === 'number') return { queue: [...listing], offset: from, done: [] };
  const listed = new Set(listing);
  const done = (from.done ?? listing.filter((f) => f < from.file)).filter((f) => f !== from.file && listed.has(f));
  const skip = new Set(done);
  const current = listed.has(from.file);
  const queue = current ? [from.file] : [];
  for (const f of listing) if (f !== from.file && !skip.has(f)) queue.push(f);
  return { queue, offset: current ? from.offset : 0, done };
}
