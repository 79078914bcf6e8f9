import { isUtf8 } from 'node:buffer';
import { WireError } from './errors.js';

/**
 * The most levels of arrays and objects a JSON record may nest. Deeper values parse, but writing them
 * (JSON.stringify, structuredClone) overflows the stack at a depth that depends on the thread: on the main
 * thread at ~4,000, on a worker at ~40,000. A fixed limit gives every path the same answer.
 */
export const MAX_DEPTH = 1000;

const enum Fault {
  None = 0,
  Syntax = 1,
  Depth = 2,
  Utf8 = 3,
}

// The scan is a state machine over bytes: one table lookup per byte. What a table cannot say (which container is
// open, how deep) happens in the few transitions marked as actions: `{`, `[`, `}`, `]`, `,`, and errors.
const VALUE = 1; // a value is expected
const VALUE_OR_CLOSE = 2; // after `[`
const KEY_OR_CLOSE = 3; // after `{`
const KEY = 4; // after `,` in an object
const COLON = 5;
const AFTER = 6; // after a value
const STRING = 7; // in a value string; a key's string has the same states from KEY_STRING
const KEY_STRING = 20;
// Offsets from STRING or KEY_STRING.
const ESCAPE = 1;
const HEX = 2; // four states, one per hex digit
const CONT1 = 6; // UTF-8: continuation bytes to go
const CONT2 = 7;
const CONT3 = 8;
const AFTER_E0 = 9; // the second byte's range is narrower after E0, ED, F0 and F4
const AFTER_ED = 10;
const AFTER_F0 = 11;
const AFTER_F4 = 12;
const MINUS_SIGN = 33;
const INT_ZERO = 34;
const INT = 35;
const POINT = 36;
const FRACTION = 37;
const EXPONENT = 38;
const EXPONENT_SIGN = 39;
const EXPONENT_DIGITS = 40;
const LITERAL = 41; // the letters of true, false, null after their first: one state each
const STATES = 51;
const ACTION = 128;
const OPEN_OBJECT = 128;
const OPEN_ARRAY = 129;
const CLOSE_OBJECT = 130;
const CLOSE_ARRAY = 131;
const COMMA = 132;
const SYNTAX_ERROR = 133;
const UTF8_ERROR = 134;

const OBJECT = 1;
const ARRAY = 2;

// Built at every start-up that checks JSON lines: plain loops and fills, no arrays made (~4 ms less, cold).
function buildTable(): Uint8Array {
  const t = new Uint8Array(STATES * 256).fill(SYNTAX_ERROR);
  const set = (state: number, bytes: string | readonly number[], next: number): void => {
    for (let i = 0; i < bytes.length; i++) t[state * 256 + (typeof bytes === 'string' ? bytes.charCodeAt(i) : bytes[i]!)] = next;
  };
  /** Bytes `from` to `to`, both included. */
  const setRange = (state: number, from: number, to: number, next: number): void => {
    t.fill(next, state * 256 + from, state * 256 + to + 1);
  };
  const space = ' \t\n\r';
  const digits = '0123456789';
  for (const state of [VALUE, VALUE_OR_CLOSE]) {
    set(state, space, state);
    set(state, '"', STRING);
    set(state, '{', OPEN_OBJECT);
    set(state, '[', OPEN_ARRAY);
    set(state, '-', MINUS_SIGN);
    set(state, '0', INT_ZERO);
    set(state, '123456789', INT);
    set(state, 't', LITERAL);
    set(state, 'f', LITERAL + 3);
    set(state, 'n', LITERAL + 7);
  }
  set(VALUE_OR_CLOSE, ']', CLOSE_ARRAY);
  set(KEY_OR_CLOSE, space, KEY_OR_CLOSE);
  set(KEY_OR_CLOSE, '"', KEY_STRING);
  set(KEY_OR_CLOSE, '}', CLOSE_OBJECT);
  set(KEY, space, KEY);
  set(KEY, '"', KEY_STRING);
  set(COLON, space, COLON);
  set(COLON, ':', VALUE);
  set(AFTER, space, AFTER);
  set(AFTER, ',', COMMA);
  set(AFTER, '}', CLOSE_OBJECT);
  set(AFTER, ']', CLOSE_ARRAY);
  for (const [base, done] of [
    [STRING, AFTER],
    [KEY_STRING, COLON],
  ] as const) {
    for (let k = 0; k <= AFTER_F4; k++) setRange(base + k, k < CONT1 ? 0x80 : 0, 0xff, UTF8_ERROR);
    setRange(base, 0x20, 0x7f, base);
    set(base, '"', done);
    set(base, '\\', base + ESCAPE);
    setRange(base, 0xc2, 0xdf, base + CONT1);
    set(base, [0xe0], base + AFTER_E0);
    setRange(base, 0xe1, 0xec, base + CONT2);
    set(base, [0xee, 0xef], base + CONT2);
    set(base, [0xed], base + AFTER_ED); // no UTF-16 surrogates
    set(base, [0xf0], base + AFTER_F0);
    setRange(base, 0xf1, 0xf3, base + CONT3);
    set(base, [0xf4], base + AFTER_F4); // nothing above U+10FFFF
    set(base + ESCAPE, '"\\/bfnrt', base);
    set(base + ESCAPE, 'u', base + HEX);
    for (let k = 0; k < 4; k++) set(base + HEX + k, '0123456789abcdefABCDEF', k === 3 ? base : base + HEX + k + 1);
    setRange(base + CONT1, 0x80, 0xbf, base);
    setRange(base + CONT2, 0x80, 0xbf, base + CONT1);
    setRange(base + CONT3, 0x80, 0xbf, base + CONT2);
    setRange(base + AFTER_E0, 0xa0, 0xbf, base + CONT1);
    setRange(base + AFTER_ED, 0x80, 0x9f, base + CONT1);
    setRange(base + AFTER_F0, 0x90, 0xbf, base + CONT2);
    setRange(base + AFTER_F4, 0x80, 0x8f, base + CONT2);
  }
  // A number ends at the first byte that cannot continue it, which then counts as the byte after a value.
  for (const state of [INT_ZERO, INT, FRACTION, EXPONENT_DIGITS]) t.copyWithin(state * 256, AFTER * 256, AFTER * 256 + 256);
  set(MINUS_SIGN, '0', INT_ZERO);
  set(MINUS_SIGN, '123456789', INT);
  set(INT, digits, INT);
  for (const state of [INT_ZERO, INT]) set(state, '.', POINT);
  for (const state of [INT_ZERO, INT, FRACTION]) set(state, 'eE', EXPONENT);
  set(POINT, digits, FRACTION);
  set(FRACTION, digits, FRACTION);
  set(EXPONENT, '+-', EXPONENT_SIGN);
  set(EXPONENT, digits, EXPONENT_DIGITS);
  set(EXPONENT_SIGN, digits, EXPONENT_DIGITS);
  set(EXPONENT_DIGITS, digits, EXPONENT_DIGITS);
  const letters = 'rue' + 'alse' + 'ull';
  const last = new Set([2, 6, 9]);
  for (let k = 0; k < letters.length; k++) set(LITERAL + k, letters[k]!, last.has(k) ? AFTER : LITERAL + k + 1);
  return t;
}

const table = buildTable();
/** Which container each open level is: one stack for the thread, as scans never nest. */
const stack = new Uint8Array(MAX_DEPTH);
let fault: Fault = Fault.None;

function fail(kind: Fault): Fault {
  fault = kind;
  return kind;
}

/**
 * Checks that `b[start, end)` is one JSON text as JSON.parse accepts it, in valid UTF-8, nested at most MAX_DEPTH
 * deep, without building it: no allocation, no recursion. 0 when it is; else a fault, worded by `jsonLineError`.
 */
export function scanJson(b: Uint8Array, start: number, end: number): number {
  const t = table;
  let depth = 0;
  let state = VALUE;
  for (let i = start; i < end; i++) {
    state = t[(state << 8) | b[i]!]!;
    if (state < ACTION) continue;
    if (state === OPEN_OBJECT || state === OPEN_ARRAY) {
      if (depth === MAX_DEPTH) return fail(Fault.Depth);
      stack[depth++] = state === OPEN_OBJECT ? OBJECT : ARRAY;
      state = state === OPEN_OBJECT ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
    } else if (state === CLOSE_OBJECT || state === CLOSE_ARRAY) {
      if (depth === 0 || stack[depth - 1] !== (state === CLOSE_OBJECT ? OBJECT : ARRAY)) return fail(Fault.Syntax);
      depth--;
      state = AFTER;
    } else if (state === COMMA) {
      if (depth === 0) return fail(Fault.Syntax);
      state = stack[depth - 1] === OBJECT ? KEY : VALUE;
    } else return fail(state === UTF8_ERROR ? Fault.Utf8 : Fault.Syntax);
  }
  const complete = state === AFTER || state === INT_ZERO || state === INT || state === FRACTION || state === EXPONENT_DIGITS;
  return complete && depth === 0 ? Fault.None : fail(Fault.Syntax);
}

/**
 * Why the line `b[start, end)` is not a JSON record, or undefined when it is one. The same error on every path
 * (a syntax error is worded by JSON.parse, like the value getter's).
 */
export function jsonLineError(b: Uint8Array, start: number, end: number): WireError | undefined {
  if (scanJson(b, start, end) === Fault.None) return undefined;
  // Bytes that are not UTF-8 are named first, wherever they are: a check of UTF-8 alone then says the same.
  const utf8 = utf8LineError(b, start, end);
  if (utf8 !== undefined) return utf8;
  if (fault === Fault.Depth) return new WireError('INVALID_INPUT', `malformed JSON: nested deeper than ${MAX_DEPTH} levels`, { maxDepth: MAX_DEPTH });
  const text = Buffer.from(b.buffer, b.byteOffset + start, end - start).toString('utf8');
  try {
    JSON.parse(text);
  } catch (err) {
    return new WireError('INVALID_INPUT', `malformed JSON: ${(err as Error).message}`, {});
  }
  return new WireError('INVALID_INPUT', 'malformed JSON', {});
}

/** One UTF-8 sequence starting at `i` (its lead byte ≥ 0x80), as TextDecoder accepts it: the index after it, or -1. */
function utf8Sequence(b: Uint8Array, i: number, end: number): number {
  const c = b[i]!;
  let more: number;
  let low = 0x80;
  let high = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) more = 1;
  else if (c >= 0xe0 && c <= 0xef) {
    more = 2;
    if (c === 0xe0) low = 0xa0;
    else if (c === 0xed) high = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    more = 3;
    if (c === 0xf0) low = 0x90;
    else if (c === 0xf4) high = 0x8f;
  } else return -1;
  if (i + more >= end) return -1;
  const second = b[i + 1]!;
  if (second < low || second > high) return -1;
  for (let k = 2; k <= more; k++) {
    const next = b[i + k]!;
    if (next < 0x80 || next > 0xbf) return -1;
  }
  return i + more + 1;
}

/** The error of a line that is not valid UTF-8 (at byte `at` of the line). */
function invalidUtf8(at: number): WireError {
  return new WireError('INVALID_INPUT', `invalid UTF-8 at byte ${at} of the line`, { offset: at });
}

/** Why the line `b[start, end)` is not valid UTF-8 (naming its first bad byte), or undefined when it is. */
export function utf8LineError(b: Uint8Array, start: number, end: number): WireError | undefined {
  if (isUtf8(b.subarray(start, end))) return undefined;
  let i = start;
  while (i < end) {
    const next = b[i]! < 0x80 ? i + 1 : utf8Sequence(b, i, end);
    if (next < 0) break;
    i = next;
  }
  return invalidUtf8(i - start);
}
