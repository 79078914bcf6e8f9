import type { Position } from '../../core/record.js';

const STREAM_ID = /^(\d+)-(\d+)$/;

/**
 * Orders two source positions of the same source, for the shapes sources give: numbers (offsets, sequence
 * numbers), stream ids (`ms-seq`) and `{ file, offset }` (a glob of files read in sorted order). Undefined when
 * they cannot be ordered: exactly-once then cannot tell what was already written.
 */
export function comparePositions(a: Position | undefined, b: Position | undefined): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') {
    const x = STREAM_ID.exec(a);
    const y = STREAM_ID.exec(b);
    if (x === null || y === null) return undefined;
    return Number(x[1]) - Number(y[1]) || Number(x[2]) - Number(y[2]);
  }
  if (isFileOffset(a) && isFileOffset(b)) return a.file === b.file ? a.offset - b.offset : a.file < b.file ? -1 : 1;
  return undefined;
}

function isFileOffset(p: Position | undefined): p is { file: string; offset: number } {
  return p !== null && typeof p === 'object' && !Array.isArray(p) && typeof p.file === 'string' && typeof p.offset === 'number';
}
