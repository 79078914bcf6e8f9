/** A token's lifetime: `90s`, `30m`, `24h`, `7d`, at most a year. */
import { WireError } from '../core/errors.js';

const UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_TTL_MS = 366 * 86_400_000;

export function parseTtl(text: string, field: string): number {
  const m = /^(\d{1,9})(s|m|h|d)$/.exec(text);
  const ms = m ? Number(m[1]) * UNITS[m[2]!]! : NaN;
  if (!(ms >= 1000 && ms <= MAX_TTL_MS)) throw new WireError('INVALID_INPUT', `${field}: '${text}' is not a lifetime from 1s to 366d (e.g. 90s, 30m, 24h, 7d)`, { field });
  return ms;
}
