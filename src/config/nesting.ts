/**
 * A limit on how deeply a pipeline file nests. Pipelines nest a few levels; a body of ten thousand `[` makes the
 * YAML parser and every walk over the document recurse that deep, which costs seconds and can end the process
 * (V8 fails hard when it must compile a regular expression with the stack nearly exhausted). Both checks are
 * linear and recurse nowhere.
 */
import { isMap, isPair, isSeq, type Document } from 'yaml';

export const MAX_NESTING = 64;

/**
 * The deepest run of unclosed `[` and `{` in the text, quotes ignored: a bracket inside a string counts too, so
 * the figure is never below the real depth of flow collections (a quote cannot hide one).
 */
export function flowDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
  }
  return deepest;
}

/** Columns of indentation plus block indicators a line may open with: far above any pipeline, far below a crash. */
export const MAX_BLOCK_DEPTH = 256;

/**
 * An upper bound of the block nesting a line can open: its indentation in columns plus its `- `, `? ` and `: `
 * indicators (`- - - - x` nests a sequence per dash without any indentation). Never below the real depth.
 */
export function blockDepth(text: string): number {
  let deepest = 0;
  for (const line of text.split('\n')) {
    const indent = line.length - line.trimStart().length;
    let indicators = 0;
    for (let i = indent; i < line.length; i++) {
      const c = line[i];
      if ((c === '-' || c === '?' || c === ':') && (i + 1 === line.length || line[i + 1] === ' ' || line[i + 1] === '\t')) indicators++;
    }
    deepest = Math.max(deepest, indent + indicators);
  }
  return deepest;
}

/** The depth of a parsed document's collections (block ones included), walked with a stack of its own. */
export function documentDepth(doc: Document): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[doc.contents, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (isMap(node) || isSeq(node)) {
      deepest = Math.max(deepest, depth + 1);
      if (deepest > MAX_NESTING) return deepest;
      for (const item of node.items as unknown[]) {
        if (isPair(item)) stack.push([item.key, depth + 1], [item.value, depth + 1]);
        else stack.push([item, depth + 1]);
      }
    }
  }
  return deepest;
}
