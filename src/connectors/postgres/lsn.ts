import { WireError } from '../../core/errors.js';

/** A WAL position (log sequence number), as Postgres writes it: `16/B374D848` (two 32-bit halves in hex). */
export function parseLsn(text: string): bigint {
  const match = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (match === null) throw new WireError('INVALID_INPUT', `not a postgres LSN: ${JSON.stringify(text)}`);
  return (BigInt(`0x${match[1]!}`) << 32n) | BigInt(`0x${match[2]!}`);
}

export function formatLsn(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}
