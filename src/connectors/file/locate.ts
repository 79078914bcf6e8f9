import { open } from 'node:fs/promises';

/** Bytes read at a time while counting lines. */
const READ_BYTES = 1024 * 1024;
/** Counted points kept per file, so later look-ups count on from near where they are. */
const MAX_MARKS = 64;

/** `lines` newlines lie before byte `offset` of a file. */
interface Mark {
  readonly offset: number;
  readonly lines: number;
}

function countNewlines(buffer: Buffer, from: number, to: number): number {
  let n = 0;
  for (let i = buffer.indexOf(10, from); i >= 0 && i < to; i = buffer.indexOf(10, i + 1)) n++;
  return n;
}

/**
 * Turns file positions (the byte offset just after a record's line) into line numbers by counting newlines: only
 * for records that are dead-lettered, so reading never counts. It remembers where it has counted to, so a run
 * that dead-letters records all through a large file reads it about once, not once per record.
 */
export class LineLocator {
  private readonly marks = new Map<string, Mark[]>();

  /** For each end offset, the 1-based number of the line ending there; undefined when the file is shorter now. */
  async lines(file: string, ends: readonly number[]): Promise<(number | undefined)[]> {
    const order = ends.map((end, i) => ({ end, i })).sort((a, b) => a.end - b.end);
    const out = new Array<number | undefined>(ends.length).fill(undefined);
    const handle = await open(file, 'r');
    try {
      const size = (await handle.stat()).size;
      let marks = this.marks.get(file) ?? [];
      // A file cut shorter (rotated, truncated) since: what was counted no longer holds.
      if (marks.length > 0 && marks[marks.length - 1]!.offset > size) marks = [];
      const buffer = Buffer.allocUnsafe(READ_BYTES);
      let chunkStart = 0;
      let chunkLength = 0;
      let from = nearest(marks, order[0] === undefined ? 0 : order[0].end - 1);
      let at = from.offset;
      let lines = from.lines;
      for (const { end, i } of order) {
        // The line ending at `end` (past its newline) is numbered by the newlines before its own.
        const limit = end - 1;
        if (limit < at) {
          from = nearest(marks, limit);
          at = from.offset;
          lines = from.lines;
        }
        while (at < limit) {
          if (at < chunkStart || at >= chunkStart + chunkLength) {
            const { bytesRead } = await handle.read(buffer, 0, READ_BYTES, at);
            if (bytesRead === 0) break;
            chunkStart = at;
            chunkLength = bytesRead;
          }
          const stop = Math.min(limit, chunkStart + chunkLength);
          lines += countNewlines(buffer, at - chunkStart, stop - chunkStart);
          at = stop;
        }
        if (at < limit || end < 1) continue;
        out[i] = lines + 1;
        marks = withMark(marks, { offset: at, lines });
      }
      this.marks.set(file, marks);
    } finally {
      await handle.close();
    }
    return out;
  }
}

/** The counted point nearest before `offset` (the file's start when none is). */
function nearest(marks: readonly Mark[], offset: number): Mark {
  let best: Mark = { offset: 0, lines: 0 };
  for (const m of marks) if (m.offset <= offset && m.offset > best.offset) best = m;
  return best;
}

/** The marks with one more, in offset order; every other one dropped when there are too many (never the furthest). */
function withMark(marks: readonly Mark[], mark: Mark): Mark[] {
  const next = marks.filter((m) => m.offset !== mark.offset);
  next.push(mark);
  next.sort((a, b) => a.offset - b.offset);
  const last = next.length - 1;
  return next.length > MAX_MARKS ? next.filter((_, i) => i % 2 === 1 || i === last) : next;
}
