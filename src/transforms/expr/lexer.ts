import { compileError } from './errors.js';

export type TokenKind = 'number' | 'string' | 'ident' | 'op' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** The token's text as written (for strings, without the quotes' decoding). */
  readonly text: string;
  /** The decoded value of number and string literals. */
  readonly value?: number | string;
  /** 0-based offset in the source. */
  readonly offset: number;
}

// Longest first, so `<=` is not read as `<` then `=`.
const OPERATORS = ['??', '==', '!=', '<=', '>=', '<', '>', '+', '-', '*', '/', '%', '(', ')', '[', ']', ',', '.', '?', ':'];

// Operators from other languages that users type by habit: point them to the word Wire uses.
const HINTS: Readonly<Record<string, string>> = {
  '&&': "use 'and'",
  '||': "use 'or'",
  '!': "use 'not'",
  '=': "use '==' to compare",
};

const ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  '"': '"',
  "'": "'",
  '0': '\0',
};

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function isIdentStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_';
}

function isIdentPart(c: string): boolean {
  return isIdentStart(c) || isDigit(c);
}

/** Splits an expression into tokens; the last is always `eof`. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (isDigit(c)) {
      i = readNumber(source, i, tokens);
      continue;
    }
    if (c === '"' || c === "'") {
      i = readString(source, i, tokens);
      continue;
    }
    if (isIdentStart(c)) {
      const start = i;
      while (i < source.length && isIdentPart(source[i]!)) i++;
      tokens.push({ kind: 'ident', text: source.slice(start, i), offset: start });
      continue;
    }
    const habit = habitAt(source, i);
    if (habit !== undefined) throw compileError(source, i, `unexpected '${habit}' (${HINTS[habit]!})`);
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (op === undefined) throw compileError(source, i, `unexpected character '${c}'`);
    tokens.push({ kind: 'op', text: op, offset: i });
    i += op.length;
  }
  tokens.push({ kind: 'eof', text: '', offset: source.length });
  return tokens;
}

/** The operator from another language written at `i`, if any (`!=` and `==` are Wire's own). */
function habitAt(source: string, i: number): string | undefined {
  const two = source.slice(i, i + 2);
  if (two === '&&' || two === '||') return two;
  const c = source[i];
  if (c === '!' && two !== '!=') return '!';
  if (c === '=' && two !== '==') return '=';
  return undefined;
}

function readNumber(source: string, start: number, tokens: Token[]): number {
  let i = start;
  while (i < source.length && isDigit(source[i]!)) i++;
  if (source[i] === '.' && isDigit(source[i + 1] ?? '')) {
    i++;
    while (i < source.length && isDigit(source[i]!)) i++;
  }
  if (source[i] === 'e' || source[i] === 'E') {
    let j = i + 1;
    if (source[j] === '+' || source[j] === '-') j++;
    if (!isDigit(source[j] ?? '')) throw compileError(source, start, `malformed number '${source.slice(start, j)}'`);
    while (j < source.length && isDigit(source[j]!)) j++;
    i = j;
  }
  if (i < source.length && isIdentStart(source[i]!)) {
    throw compileError(source, start, `malformed number '${source.slice(start, i + 1)}'`);
  }
  const text = source.slice(start, i);
  tokens.push({ kind: 'number', text, value: Number(text), offset: start });
  return i;
}

function readString(source: string, start: number, tokens: Token[]): number {
  const quote = source[start]!;
  let i = start + 1;
  let value = '';
  while (i < source.length && source[i] !== quote) {
    const c = source[i]!;
    if (c !== '\\') {
      value += c;
      i++;
      continue;
    }
    const e = source[i + 1];
    if (e === 'u') {
      const hex = source.slice(i + 2, i + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw compileError(source, i, 'malformed \\u escape (want 4 hex digits)');
      value += String.fromCharCode(parseInt(hex, 16));
      i += 6;
      continue;
    }
    const decoded = e === undefined ? undefined : ESCAPES[e];
    if (decoded === undefined) throw compileError(source, i, `unknown escape '\\${e ?? ''}'`);
    value += decoded;
    i += 2;
  }
  if (i >= source.length) throw compileError(source, start, 'unterminated string');
  tokens.push({ kind: 'string', text: source.slice(start, i + 1), value, offset: start });
  return i + 1;
}
