import { isDeepStrictEqual } from 'node:util';

/** Whether an actual record fits the expected one. */
export type Matcher = (expected: unknown, actual: unknown) => boolean;

/** Output values: equal as JSON (the order of an object's keys does not matter). */
export const sameValue: Matcher = (expected, actual) => isDeepStrictEqual(expected, actual);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A dead letter fits when every field the test names is equal, `error` holding the text given. */
export const fitsDeadLetter: Matcher = (expected, actual) =>
  isObject(expected) &&
  isObject(actual) &&
  Object.entries(expected).every(([field, want]) =>
    field === 'error' && typeof want === 'string' && typeof actual['error'] === 'string'
      ? actual['error'].includes(want)
      : isDeepStrictEqual(actual[field], want),
  );

/** Above this many cells the diff pairs records by index instead of aligning them. */
const MAX_ALIGN_CELLS = 4_000_000;

/**
 * The lines of a diff of two lists, or undefined when they match: `  ` a record both have, `- ` one expected and
 * missing, `+ ` one that came unexpected. Records are aligned (longest common subsequence) so one missing record
 * shows as one line, not as every record after it.
 */
export function diffLists(expected: readonly unknown[], actual: readonly unknown[], matches: Matcher, show: (value: unknown) => string): string[] | undefined {
  const n = expected.length;
  const m = actual.length;
  if (n === m && expected.every((e, i) => matches(e, actual[i]))) return undefined;
  if (n * m > MAX_ALIGN_CELLS) {
    const lines: string[] = [];
    for (let i = 0; i < Math.max(n, m); i++) {
      if (i < n && i < m && matches(expected[i], actual[i])) lines.push(`  ${show(actual[i])}`);
      else {
        if (i < n) lines.push(`- ${show(expected[i])}`);
        if (i < m) lines.push(`+ ${show(actual[i])}`);
      }
    }
    return lines;
  }
  // common[i][j]: the longest common subsequence of expected[i..] and actual[j..].
  const width = m + 1;
  const common = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      common[i * width + j] = matches(expected[i], actual[j])
        ? common[(i + 1) * width + j + 1]! + 1
        : Math.max(common[(i + 1) * width + j]!, common[i * width + j + 1]!);
    }
  }
  const lines: string[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && matches(expected[i], actual[j]) && common[i * width + j] === common[(i + 1) * width + j + 1]! + 1) {
      lines.push(`  ${show(actual[j])}`);
      i++;
      j++;
    } else if (i < n && (j === m || common[(i + 1) * width + j]! >= common[i * width + j + 1]!)) {
      lines.push(`- ${show(expected[i])}`);
      i++;
    } else {
      lines.push(`+ ${show(actual[j])}`);
      j++;
    }
  }
  return lines;
}

/** The actual values reordered to follow the expected ones where they match, for a comparison in any order. */
export function inExpectedOrder(expected: readonly unknown[], actual: readonly unknown[], matches: Matcher): unknown[] {
  const left = [...actual];
  const ordered: unknown[] = [];
  for (const e of expected) {
    const at = left.findIndex((a) => matches(e, a));
    if (at >= 0) ordered.push(...left.splice(at, 1));
  }
  return [...ordered, ...left];
}
