import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Scalar } from 'yaml';
import type { DocPath } from './problem.js';

export interface Position {
  readonly line: number;
  readonly column: number;
}

/** Where a path found its node in the document. */
interface Found {
  readonly node: Node | null;
  /** Offset of the node, or of the key when asked for it or when the value is empty. */
  readonly offset: number;
  /** True when every segment of the path was found. */
  readonly complete: boolean;
}

function keyName(key: unknown): string | undefined {
  if (isScalar(key)) return String(key.value);
  return undefined;
}

/**
 * Maps document paths back to line:column in the text, so every problem points at its place.
 * A path that goes further than the document (a missing field) stops at the deepest node found.
 */
export class SourceMap {
  constructor(
    private readonly doc: Document,
    private readonly text: string,
    private readonly lines: LineCounter,
  ) {}

  position(offset: number): Position {
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  /** The position of the value at `path`, or of its key with `key: true` (for unknown fields). */
  locate(path: DocPath, key = false, inner?: number): Position {
    const found = this.find(path, key);
    if (inner !== undefined && found.complete && isScalar(found.node) && !key) {
      return this.position(this.innerOffset(found.node, inner));
    }
    return this.position(found.offset);
  }

  /**
   * Walks `path`. Segments of a component's own problem paths may hold dots that belong to a key
   * (`set.user.name` where `user.name` is one key of `set`), so the longest key that matches wins.
   */
  private find(path: DocPath, key: boolean): Found {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node) ?? 0;
    let i = 0;
    while (i < path.length) {
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        let matched = 0;
        let pair: { key: unknown; value: unknown } | undefined;
        for (let j = path.length - i; j >= 1 && pair === undefined; j--) {
          const name = path.slice(i, i + j).join('.');
          pair = node.items.find((p) => keyName(p.key) === name);
          if (pair !== undefined) matched = j;
        }
        if (pair === undefined) return { node: node as Node, offset, complete: false };
        i += matched;
        const keyOffset = rangeStart(pair.key) ?? offset;
        const valueOffset = rangeStart(pair.value);
        if (key && i === path.length) return { node: pair.value as Node | null, offset: keyOffset, complete: true };
        if (valueOffset === undefined) return { node: null, offset: keyOffset, complete: false };
        node = pair.value;
        offset = valueOffset;
      } else if (isSeq(node) && typeof path[i] === 'number') {
        const item: unknown = node.items[path[i] as number];
        const itemOffset = rangeStart(item);
        if (itemOffset === undefined) return { node: node as Node, offset, complete: false };
        node = item;
        offset = itemOffset;
        i++;
      } else {
        return { node: node as Node | null, offset, complete: false };
      }
    }
    return { node: node as Node | null, offset, complete: true };
  }

  /**
   * The text offset of character `index` of a scalar's value: exact for plain and quoted scalars
   * written without escapes, else the start of the first match in the source, else the scalar's start.
   */
  private innerOffset(node: Scalar, index: number): number {
    const [start, end] = node.range ?? [0, 0];
    const value = typeof node.value === 'string' ? node.value : String(node.value);
    const raw = this.text.slice(start, end);
    const quoted = node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE';
    const body = quoted ? raw.slice(1, -1) : raw;
    if (body === value) return start + (quoted ? 1 : 0) + Math.min(index, value.length);
    const tail = value.slice(index, index + 12);
    const at = tail === '' ? -1 : raw.indexOf(tail);
    return at >= 0 && raw.indexOf(tail, at + 1) < 0 ? start + at : start;
  }
}

function rangeStart(node: unknown): number | undefined {
  if (node === null || typeof node !== 'object') return undefined;
  const range = (node as { range?: readonly number[] | null }).range;
  return range === undefined || range === null ? undefined : range[0];
}
