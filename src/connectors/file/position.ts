import { WireError } from '../../core/errors.js';
import type { Position } from '../../core/record.js';

/**
 * Where a file read stands: the byte offset just after the last record (or, for `format: json`, the
 * number of array elements consumed). A single file uses the plain number; a glob names the file too.
 */
export interface FilePosition {
  readonly file: string;
  readonly offset: number;
}

function isOffset(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Reads a checkpointed position back; anything else means the checkpoint is not this source's. */
export function parseFilePosition(from: Position | undefined): FilePosition | number | undefined {
  if (from === undefined || from === null) return undefined;
  if (isOffset(from)) return from;
  if (typeof from === 'object' && !Array.isArray(from)) {
    const { file, offset } = from;
    if (typeof file === 'string' && isOffset(offset)) return { file, offset };
  }
  throw new WireError('INVALID_INPUT', `file source: checkpoint position ${JSON.stringify(from)} is not a file position`, {
    position: from,
  });
}

/** Where to start in a sorted file list: the checkpointed file (or the first after it) and an offset in it. */
export function startOf(files: readonly string[], from: FilePosition | number | undefined): { index: number; offset: number } {
  if (from === undefined) return { index: 0, offset: 0 };
  if (typeof from === 'number') return { index: 0, offset: from };
  const index = files.findIndex((f) => f >= from.file);
  if (index < 0) return { index: files.length, offset: 0 };
  return { index, offset: files[index] === from.file ? from.offset : 0 };
}
