import { runtimeError, typeName, type Site } from './errors.js';
import { str, type Call, type FunctionSpec } from './function-spec.js';
import { patternProblem } from './regex-safety.js';

/**
 * The longest text (UTF-16 units) a pattern runs against. JavaScript's engine backtracks: a pattern that
 * passes the check of regex-safety.ts can still take time growing with a power of the text's length, and a
 * synchronous transform cannot be interrupted. A longer text is an error for its record (cut it with substring()).
 */
export const MAX_SUBJECT = 16_384;

// `(?i)`, `(?ms)` at the start of a pattern: the flags users know from RE2, PCRE and Go.
const INLINE_FLAGS = /^\(\?([ims]+)\)/;

interface Pattern {
  readonly regex: RegExp;
  /** The same pattern with the g flag, for regex_replace. */
  readonly global: RegExp;
  readonly groupCount: number;
  readonly groupNames: readonly string[];
}

type Fail = (index: number, message: string) => never;
type Prepare = (values: readonly unknown[], fail: Fail) => Call;

/** Compiles a pattern literal once; a bad or dangerous one is a compile error at its argument. */
function compilePattern(value: unknown, fail: Fail): Pattern {
  if (typeof value !== 'string') return fail(1, `the pattern must be a string, got ${typeName(value)}`);
  const inline = INLINE_FLAGS.exec(value);
  const body = inline === null ? value : value.slice(inline[0].length);
  const flags = `${[...new Set(inline?.[1] ?? '')].join('')}u`;
  const problem = patternProblem(body);
  if (problem !== undefined) return fail(1, `the pattern ${problem}`);
  let regex: RegExp;
  try {
    regex = new RegExp(body, flags);
  } catch (err) {
    return fail(1, `the pattern is not a valid regular expression (${(err as Error).message})`);
  }
  // Matching the empty alternative gives every group, unmatched: their count and names.
  const probe = new RegExp(`(?:${body})|`, flags).exec('')!;
  return {
    regex,
    global: new RegExp(body, `${flags}g`),
    groupCount: probe.length - 1,
    groupNames: Object.keys(probe.groups ?? {}),
  };
}

function subject(site: Site, value: unknown): string {
  const text = str(site, value);
  if (text.length > MAX_SUBJECT) {
    throw runtimeError(site, `expects a text of at most ${MAX_SUBJECT} characters, got ${text.length} (cut it with substring() first)`);
  }
  return text;
}

function matches(values: readonly unknown[], fail: Fail): Call {
  const { regex } = compilePattern(values[1], fail);
  return (site, s) => (s === null ? null : regex.test(subject(site, s)));
}

/** regex_extract(s, pattern[, group]): the first match, or one of its groups (by number or name); null when none. */
function extract(values: readonly unknown[], fail: Fail): Call {
  const { regex, groupCount, groupNames } = compilePattern(values[1], fail);
  const group = values[2] ?? 0;
  if (typeof group === 'number') {
    if (!Number.isInteger(group) || group < 0 || group > groupCount) {
      const range = groupCount === 0 ? '0 (the whole match: the pattern has no groups)' : `0 (the whole match) to ${groupCount} (its groups)`;
      fail(2, `the group must be ${range}, got ${group}`);
    }
  } else if (typeof group !== 'string' || !groupNames.includes(group)) {
    const named = groupNames.length === 0 ? 'the pattern has no named groups' : `the pattern's named groups are ${groupNames.join(', ')}`;
    fail(2, `the group must be a number or a group's name (${named}), got ${typeof group === 'string' ? `'${group}'` : typeName(group)}`);
  }
  return (site, s) => {
    if (s === null) return null;
    const m = regex.exec(subject(site, s));
    if (m === null) return null;
    const found = typeof group === 'number' ? m[group] : m.groups?.[group];
    return found ?? null;
  };
}

/** regex_parse(s, pattern): an object of the pattern's named groups (null for a group that took no part); null when no match. */
function parse(values: readonly unknown[], fail: Fail): Call {
  const { regex, groupNames } = compilePattern(values[1], fail);
  if (groupNames.length === 0) fail(1, 'the pattern has no named groups ((?<name>…)) to make fields of');
  return (site, s) => {
    if (s === null) return null;
    const m = regex.exec(subject(site, s));
    if (m === null) return null;
    const out: Record<string, string | null> = {};
    for (const name of groupNames) out[name] = m.groups?.[name] ?? null;
    return out;
  };
}

/** regex_replace(s, pattern, replacement): every match replaced; `$1`, `$<name>`, `$&` in the replacement refer to it. */
function replace(values: readonly unknown[], fail: Fail): Call {
  const { global } = compilePattern(values[1], fail);
  return (site, s, _pattern, replacement) => {
    if (s === null) return null;
    return subject(site, s).replace(global, str(site, replacement, 'a string replacement'));
  };
}

function regexFn(min: number, max: number, constants: readonly number[], prepare: Prepare): FunctionSpec {
  return { min, max, pure: true, constants, prepare };
}

export const REGEX_FUNCTIONS: readonly (readonly [string, FunctionSpec])[] = [
  ['matches', regexFn(2, 2, [1], matches)],
  ['regex_extract', regexFn(2, 3, [1, 2], extract)],
  ['regex_parse', regexFn(2, 2, [1], parse)],
  ['regex_replace', regexFn(3, 3, [1], replace)],
];
