import { runtimeError, typeName, type Site } from './errors.js';
import type { Call, FunctionSpec } from './function-spec.js';
import {
  MAX_TIME,
  MIN_TIME,
  compileTimePattern,
  formatByPattern,
  formatRfc3339,
  fromEpoch,
  parseByPattern,
  parseRfc3339,
  toEpoch,
  type Piece,
} from './time-pattern.js';

type Fail = (index: number, message: string) => never;

/** A value as it appears in a message: strings quoted and cut short. */
function shown(value: string): string {
  return JSON.stringify(value.length > 64 ? `${value.slice(0, 64)}…` : value);
}

function inRange(site: Site, ms: number): number {
  if (!Number.isFinite(ms) || ms < MIN_TIME || ms >= MAX_TIME) {
    throw runtimeError(site, `expects a time within the years 0000 to 9999, got ${ms} milliseconds since the epoch`);
  }
  return Math.floor(ms);
}

function rfc3339(site: Site, text: string): number {
  const fields = parseRfc3339(text);
  if (fields === undefined) {
    throw runtimeError(site, `cannot read ${shown(text)} as an RFC 3339 time such as 2024-05-01T12:00:00Z (give a pattern for other forms)`);
  }
  const ms = toEpoch(fields);
  if (typeof ms === 'string') throw runtimeError(site, `cannot read ${shown(text)} as a time: ${ms}`);
  return ms;
}

/** A time given as milliseconds since the epoch or RFC 3339 text. */
function instant(site: Site, value: unknown): number {
  if (typeof value === 'number') return inRange(site, value);
  if (typeof value === 'string') return rfc3339(site, value);
  throw runtimeError(site, `expects a time (milliseconds since the epoch or RFC 3339 text), got ${typeName(value)}`);
}

function pattern(value: unknown, fail: Fail): Piece[] {
  if (typeof value !== 'string' || value === '') fail(1, `the pattern must be a non-empty string, got ${typeof value === 'string' ? 'an empty one' : typeName(value)}`);
  const pieces = compileTimePattern(value as string);
  if (typeof pieces === 'string') return fail(1, `the pattern: ${pieces}`);
  return pieces;
}

/** parse_time(x[, pattern]): milliseconds since the epoch. */
function prepareParse(values: readonly unknown[], fail: Fail): Call {
  const pieces = values.length > 1 ? pattern(values[1], fail) : undefined;
  return (site, a) => {
    if (a === null) return null;
    if (typeof a === 'number') return inRange(site, a);
    if (typeof a !== 'string') throw runtimeError(site, `expects a string or a number, got ${typeName(a)}`);
    if (pieces === undefined) return rfc3339(site, a);
    const ms = parseByPattern(pieces, a);
    if (typeof ms === 'string') throw runtimeError(site, `cannot read ${shown(a)} by its pattern: ${ms}`);
    return inRange(site, ms);
  };
}

const FIXED_OFFSET = /^([+-])(\d{2}):?(\d{2})$/;

/** The zone's offset from UTC (minutes) at an instant: fixed, or looked up in the IANA database by Intl. */
function zone(value: unknown, fail: Fail): (ms: number) => number {
  if (value === undefined || value === null || value === 'UTC' || value === 'Z') return () => 0;
  if (typeof value !== 'string') return fail(2, `the zone must be a string such as "UTC", "+02:00" or "Europe/Paris", got ${typeName(value)}`);
  const fixed = FIXED_OFFSET.exec(value);
  if (fixed !== null) {
    const offset = (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3]));
    if (Math.abs(offset) >= 24 * 60) fail(2, `the zone offset ${value} is not within ±23:59`);
    return () => offset;
  }
  let parts: Intl.DateTimeFormat;
  try {
    parts = new Intl.DateTimeFormat('en-US', {
      timeZone: value,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    return fail(2, `the zone ${JSON.stringify(value)} is not UTC, an offset such as +02:00 or a known time zone name`);
  }
  return (ms) => {
    const p: Record<string, number> = {};
    for (const { type, value: v } of parts.formatToParts(ms)) if (type !== 'literal') p[type] = Number(v);
    const wall = toEpoch({ year: p['year']!, month: p['month']!, day: p['day']!, hour: p['hour']!, minute: p['minute']!, second: p['second']!, millisecond: 0, offset: 0 });
    return typeof wall === 'number' ? Math.round((wall - (ms - (((ms % 1000) + 1000) % 1000))) / 60_000) : 0;
  };
}

/** format_time(t[, pattern[, zone]]): RFC 3339 text by default, in UTC unless a zone is given. */
function prepareFormat(values: readonly unknown[], fail: Fail): Call {
  const pieces = values.length > 1 && values[1] !== null ? pattern(values[1], fail) : undefined;
  const offsetAt = zone(values[2], fail);
  return (site, a) => {
    if (a === null) return null;
    const ms = instant(site, a);
    const fields = fromEpoch(ms, offsetAt(ms));
    // Within the range in UTC, a time can still fall in year -1 or 10000 in its zone: four digits cannot write it.
    if (fields.year < 0 || fields.year > 9999) {
      throw runtimeError(site, `expects a time within the years 0000 to 9999, got one in the year ${fields.year} in its zone`);
    }
    return pieces === undefined ? formatRfc3339(fields) : formatByPattern(pieces, fields, ms);
  };
}

export const TIME_FUNCTIONS: readonly (readonly [string, FunctionSpec])[] = [
  ['parse_time', { min: 1, max: 2, pure: true, constants: [1], prepare: prepareParse }],
  ['format_time', { min: 1, max: 3, pure: true, constants: [1, 2], prepare: prepareFormat }],
];
