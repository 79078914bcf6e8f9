import { WireError, errorMessage } from './errors.js';
import { MAX_DEPTH } from './json-scan.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** True when JSON `text` nests arrays and objects more than `max` deep (brackets inside strings do not count). */
export function deeperThan(text: string, max: number): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

function tooDeep(max: number): WireError {
  return new WireError('INVALID_INPUT', `cannot write the value as JSON: nested deeper than ${max} levels`, { maxDepth: max });
}

/**
 * A value as JSON text (`null` for undefined), or INVALID_INPUT when JSON cannot hold it: a BigInt, a cycle, or
 * nesting deeper than `max` levels. The depth limit is checked, not left to the stack: JSON.stringify overflows
 * at a depth that depends on the thread, and every path must give the same answer.
 */
export function writeJson(value: unknown, max = MAX_DEPTH): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    if (err instanceof RangeError && err.message.includes('call stack')) throw tooDeep(max);
    throw new WireError('INVALID_INPUT', `cannot write the value as JSON: ${errorMessage(err)}`, {}, err);
  }
  if (text === undefined) return 'null';
  // Nesting `max` deep takes at least 2 × max characters: shorter texts need no look.
  if (text.length > 2 * max && deeperThan(text, max)) throw tooDeep(max);
  return text;
}
