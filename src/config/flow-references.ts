import { isMap, isScalar, isSeq, type Document } from 'yaml';

/**
 * `{ count: ${N} }` is not YAML as written: inside `{ }` and `[ ]` the braces of `${N}` (and a `,` in a default)
 * end the collection. Before the text is parsed, those characters of each `${…}` are swapped for characters the
 * text does not hold (from Unicode's private use area), one for one so every offset stays true; after parsing,
 * every scalar gets its characters back. The reference then interpolates like any other: unquoted, a number.
 */

const SPECIAL = ['{', '}', '[', ']', ','] as const;

export interface Masked {
  readonly text: string;
  /** Gives a masked string its original characters. */
  readonly restore: (s: string) => string;
}

function unusedCharacters(text: string, count: number): string[] | undefined {
  const found: string[] = [];
  for (let code = 0xe000; code <= 0xf8ff && found.length < count; code++) {
    const c = String.fromCharCode(code);
    if (!text.includes(c)) found.push(c);
  }
  return found.length === count ? found : undefined;
}

/** Masks the flow indicators inside every `${…}` (as `interpolate` reads them: `$${` is no reference). */
export function maskReferences(text: string): Masked {
  const identity: Masked = { text, restore: (s) => s };
  if (!text.includes('${')) return identity;
  const masks = unusedCharacters(text, SPECIAL.length);
  if (masks === undefined) return identity;
  const toMask = new Map<string, string>(SPECIAL.map((c, i) => [c, masks[i]!]));
  const toOriginal = new Map<string, string>(SPECIAL.map((c, i) => [masks[i]!, c]));
  let out = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      out += '$${';
      i += 3;
    } else if (text.startsWith('${', i)) {
      const close = text.indexOf('}', i + 2);
      const reference = close < 0 ? '' : text.slice(i, close + 1);
      if (reference === '' || /[\n"']/.test(reference)) {
        // Not a reference within one line and one scalar (a quote would end the scalar): left to YAML as written,
        // and to `interpolate` to report.
        out += '${';
        i += 2;
        continue;
      }
      for (const c of reference) out += toMask.get(c) ?? c;
      i = close + 1;
    } else {
      out += text[i];
      i++;
    }
  }
  const pattern = new RegExp(`[${masks.join('')}]`, 'g');
  return { text: out, restore: (s) => s.replace(pattern, (c) => toOriginal.get(c)!) };
}

/** Gives every string scalar (keys included) of a document parsed from masked text its original characters. */
export function restoreReferences(doc: Document, masked: Masked): void {
  const visit = (node: unknown): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        visit(pair.key);
        visit(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) visit(item);
    } else if (isScalar(node) && typeof node.value === 'string') {
      node.value = masked.restore(node.value);
    }
  };
  visit(doc.contents);
}
