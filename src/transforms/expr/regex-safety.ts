/**
 * A look at a regular expression before it is compiled, for the shapes that make JavaScript's backtracking
 * engine take exponential time: a group repeated without bound that itself holds a repetition without bound,
 * `(a+)+`, `(\w*,)*`. It does not catch every slow pattern (overlapping alternatives such as `(a|a)*` pass);
 * the bound on the text a pattern runs against (see regex.ts) caps the rest.
 */

/** The largest count `{n}`, `{n,m}` may name: larger ones build huge automata for no real use. */
export const MAX_REPEAT = 1000;

interface Group {
  /** Where the group opens, for the message. */
  readonly start: number;
  /** The group holds a repetition without bound (directly or in a nested group). */
  unbounded: boolean;
}

/** The index after a group's opening `(` and its kind (`?:`, `?=`, `?!`, `?<=`, `?<!`, `?<name>`). */
function groupBodyStart(pattern: string, i: number): number {
  const m = /^\((\?(:|=|!|<=|<!|<[A-Za-z_$][\w$]*>))?/.exec(pattern.slice(i, i + 80));
  return i + (m?.[0].length ?? 1);
}

interface Quantifier {
  readonly unbounded: boolean;
  readonly end: number;
  readonly count?: number;
}

/** The quantifier at `i` (`*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`), or undefined when there is none. */
function quantifierAt(pattern: string, i: number): Quantifier | undefined {
  const c = pattern[i];
  if (c === '*' || c === '+') return { unbounded: true, end: i + 1 };
  if (c === '?') return { unbounded: false, end: i + 1 };
  if (c !== '{') return undefined;
  const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 40));
  if (m === null) return undefined;
  const low = Number(m[1]);
  const high = m[3] === undefined || m[3] === '' ? undefined : Number(m[3]);
  const count = Math.max(low, high ?? 0);
  return { unbounded: m[2] !== undefined && high === undefined, end: i + m[0].length, count };
}

/** The index after the character class opening at `i` (`[` … `]`, with escapes). */
function classEnd(pattern: string, i: number): number {
  let j = i + 1;
  if (pattern[j] === ']') j++;
  for (; j < pattern.length; j++) {
    if (pattern[j] === '\\') j++;
    else if (pattern[j] === ']') return j + 1;
  }
  return pattern.length;
}

/** The index after the escape at `i`: `\d`, `\u{1F600}`, `\p{L}`, `\k<name>`. */
function escapeEnd(pattern: string, i: number): number {
  const c = pattern[i + 1];
  if ((c === 'u' || c === 'p' || c === 'P') && pattern[i + 2] === '{') {
    const close = pattern.indexOf('}', i + 3);
    return close < 0 ? pattern.length : close + 1;
  }
  return i + 2;
}

/** Why `pattern` is refused, or undefined when it may be compiled. */
export function patternProblem(pattern: string): string | undefined {
  const groups: Group[] = [{ start: 0, unbounded: false }];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    // The atom at i, and for a group whether it holds a repetition without bound.
    let atomEnd: number;
    let holds = false;
    let atomStart = i;
    if (c === '(') {
      groups.push({ start: i, unbounded: false });
      i = groupBodyStart(pattern, i);
      continue;
    }
    if (c === ')') {
      const closed = groups.length > 1 ? groups.pop()! : { start: i, unbounded: false };
      holds = closed.unbounded;
      atomStart = closed.start;
      atomEnd = i + 1;
    } else if (c === '\\') {
      atomEnd = escapeEnd(pattern, i);
    } else if (c === '[') {
      atomEnd = classEnd(pattern, i);
    } else {
      atomEnd = i + 1;
    }
    const current = groups[groups.length - 1]!;
    if (holds) current.unbounded = true;
    const q = quantifierAt(pattern, atomEnd);
    if (q === undefined) {
      i = atomEnd;
      continue;
    }
    if (q.count !== undefined && q.count > MAX_REPEAT) {
      return `repeats ${q.count} times: at most ${MAX_REPEAT}`;
    }
    if (q.unbounded && holds) {
      return `repeats a group that itself repeats without bound ('${pattern.slice(atomStart, q.end)}'), which can take exponential time: rewrite it without the nested repetition`;
    }
    if (q.unbounded) current.unbounded = true;
    // A lazy or possessive-looking suffix (`+?`) belongs to the quantifier.
    i = pattern[q.end] === '?' ? q.end + 1 : q.end;
  }
  return undefined;
}
