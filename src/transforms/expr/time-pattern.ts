/**
 * Times as text: RFC 3339 and a small strftime-like pattern language, in both directions. Pure arithmetic on
 * the proleptic Gregorian calendar (no Date parsing quirks: two-digit years, rolled-over days), years 0000–9999.
 */

/** The fields of a time; `offset` is the zone's offset from UTC in minutes. */
export interface TimeFields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  offset: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY_MS = 86_400_000;
/** 0000-01-01T00:00:00Z and 10000-01-01T00:00:00Z: the years four digits can write. */
export const MIN_TIME = -62_167_219_200_000;
export const MAX_TIME = 253_402_300_800_000;

/** Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm). */
function daysFromCivil(y: number, m: number, d: number): number {
  const year = m <= 2 ? y - 1 : y;
  const era = Math.floor(year / 400);
  const yoe = year - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: era * 400 + yoe + (month <= 2 ? 1 : 0), month, day };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Milliseconds since the epoch, or why the fields are not a time. */
export function toEpoch(f: TimeFields): number | string {
  if (f.month < 1 || f.month > 12) return `month ${f.month} is not 1 to 12`;
  const dim = daysInMonth(f.year, f.month);
  if (f.day < 1 || f.day > dim) return `day ${f.day} is not 1 to ${dim}`;
  if (f.hour > 23) return `hour ${f.hour} is not 0 to 23`;
  if (f.minute > 59) return `minute ${f.minute} is not 0 to 59`;
  if (f.second > 59) return `second ${f.second} is not 0 to 59`;
  if (Math.abs(f.offset) >= 24 * 60) return 'the zone offset is not within ±23:59';
  const local = daysFromCivil(f.year, f.month, f.day) * DAY_MS + ((f.hour * 60 + f.minute) * 60 + f.second) * 1000 + f.millisecond;
  return local - f.offset * 60_000;
}

/** The fields of `ms` seen at `offset` minutes from UTC. */
export function fromEpoch(ms: number, offset: number): TimeFields {
  const local = ms + offset * 60_000;
  const days = Math.floor(local / DAY_MS);
  let rest = local - days * DAY_MS;
  const { year, month, day } = civilFromDays(days);
  const millisecond = rest % 1000;
  rest = (rest - millisecond) / 1000;
  return { year, month, day, hour: Math.floor(rest / 3600), minute: Math.floor(rest / 60) % 60, second: rest % 60, millisecond, offset };
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function zoneText(offset: number, colon: boolean): string {
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  return `${sign}${pad(Math.floor(a / 60), 2)}${colon ? ':' : ''}${pad(a % 60, 2)}`;
}

/** RFC 3339 with milliseconds: `2024-05-01T12:00:00.000Z`, or `…+02:00` away from UTC. */
export function formatRfc3339(f: TimeFields): string {
  const zone = f.offset === 0 ? 'Z' : zoneText(f.offset, true);
  return `${pad(f.year, 4)}-${pad(f.month, 2)}-${pad(f.day, 2)}T${pad(f.hour, 2)}:${pad(f.minute, 2)}:${pad(f.second, 2)}.${pad(f.millisecond, 3)}${zone}`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** The fields of an RFC 3339 time (`2024-05-01T12:00:00Z`, `…12:00:00.5+02:00`), or undefined. */
export function parseRfc3339(text: string): TimeFields | undefined {
  const m = text.length <= 40 ? RFC3339.exec(text) : null;
  if (m === null) return undefined;
  const n = (i: number): number => Number(m[i]);
  const offset = m[8] === undefined ? (m[9] === '-' ? -1 : 1) * (n(10) * 60 + n(11)) : 0;
  const fraction = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  return { year: n(1), month: n(2), day: n(3), hour: n(4), minute: n(5), second: n(6), millisecond: fraction, offset };
}

/** One piece of a compiled pattern: literal text, or a directive such as `Y`. */
export type Piece = { readonly literal: string } | { readonly directive: Directive };

type Directive = 'Y' | 'm' | 'd' | 'H' | 'M' | 'S' | 'L' | 'z' | 'b' | 's';

/** `%F` and `%T` stand for these. */
const ALIASES: Readonly<Record<string, string>> = { F: '%Y-%m-%d', T: '%H:%M:%S' };
const DIRECTIVES = new Set<string>(['Y', 'm', 'd', 'H', 'M', 'S', 'L', 'z', 'b', 's']);
export const PATTERN_DIRECTIVES = '%Y %m %d %H %M %S %L %z %b %s %F %T %%';

/** A pattern in pieces, or the reason it is not one. */
export function compileTimePattern(pattern: string): Piece[] | string {
  const pieces: Piece[] = [];
  let literal = '';
  const text = pattern.replace(/%([FT])/g, (_, c: string) => ALIASES[c]!);
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '%') {
      literal += c;
      continue;
    }
    const d = text[++i];
    if (d === '%') {
      literal += '%';
      continue;
    }
    if (d === undefined || !DIRECTIVES.has(d)) {
      return `'%${d ?? ''}' is not a directive Wire knows (it knows ${PATTERN_DIRECTIVES})`;
    }
    if (literal !== '') pieces.push({ literal });
    literal = '';
    pieces.push({ directive: d as Directive });
  }
  if (literal !== '') pieces.push({ literal });
  return pieces;
}

/** Writes `f` (whose instant is `ms`) by a compiled pattern. */
export function formatByPattern(pieces: readonly Piece[], f: TimeFields, ms: number): string {
  let out = '';
  for (const p of pieces) {
    if ('literal' in p) {
      out += p.literal;
      continue;
    }
    switch (p.directive) {
      case 'Y': out += pad(f.year, 4); break;
      case 'm': out += pad(f.month, 2); break;
      case 'd': out += pad(f.day, 2); break;
      case 'H': out += pad(f.hour, 2); break;
      case 'M': out += pad(f.minute, 2); break;
      case 'S': out += pad(f.second, 2); break;
      case 'L': out += pad(f.millisecond, 3); break;
      case 'z': out += zoneText(f.offset, false); break;
      case 'b': out += MONTHS[f.month - 1]!; break;
      case 's': out += String(Math.floor(ms / 1000)); break;
    }
  }
  return out;
}

const WIDTH: Readonly<Record<string, number>> = { Y: 4, m: 2, d: 2, H: 2, M: 2, S: 2, L: 3 };

/** Reads `text` by a compiled pattern: the whole text must match. Milliseconds since the epoch, or why not. */
export function parseByPattern(pieces: readonly Piece[], text: string): number | string {
  const f: TimeFields = { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0, millisecond: 0, offset: 0 };
  let epochSeconds: number | undefined;
  let i = 0;
  for (const p of pieces) {
    if ('literal' in p) {
      if (!text.startsWith(p.literal, i)) return `expected '${p.literal}' at character ${i + 1}`;
      i += p.literal.length;
      continue;
    }
    const d = p.directive;
    const width = WIDTH[d];
    if (width !== undefined) {
      const digits = text.slice(i, i + width);
      if (!/^\d+$/.test(digits) || digits.length !== width) return `expected ${width} digits for %${d} at character ${i + 1}`;
      const n = Number(digits);
      i += width;
      if (d === 'Y') f.year = n;
      else if (d === 'm') f.month = n;
      else if (d === 'd') f.day = n;
      else if (d === 'H') f.hour = n;
      else if (d === 'M') f.minute = n;
      else if (d === 'S') f.second = n;
      else f.millisecond = n;
    } else if (d === 'b') {
      const month = MONTHS.findIndex((name) => text.slice(i, i + 3).toLowerCase() === name.toLowerCase());
      if (month < 0) return `expected a month name (Jan to Dec) for %b at character ${i + 1}`;
      f.month = month + 1;
      i += 3;
    } else if (d === 'z') {
      const m = /^(?:([Zz])|([+-])(\d{2}):?(\d{2}))/.exec(text.slice(i, i + 6));
      if (m === null) return `expected a zone offset (Z, +hh:mm or +hhmm) for %z at character ${i + 1}`;
      f.offset = m[1] === undefined ? (m[2] === '-' ? -1 : 1) * (Number(m[3]) * 60 + Number(m[4])) : 0;
      i += m[0].length;
    } else {
      const m = /^-?\d{1,12}/.exec(text.slice(i, i + 13));
      if (m === null) return `expected seconds since the epoch for %s at character ${i + 1}`;
      epochSeconds = Number(m[0]);
      i += m[0].length;
    }
  }
  if (i !== text.length) return `unexpected text after the pattern at character ${i + 1}`;
  if (epochSeconds !== undefined) return epochSeconds * 1000 + f.millisecond;
  return toEpoch(f);
}
