import { WireError } from '../../core/errors.js';
import type { Position } from '../../core/record.js';
import { parseLsn } from './lsn.js';

/**
 * Where a change is: its transaction's commit LSN (as Postgres writes it) and its place in that transaction from 1.
 * Transactions arrive in commit order, so these order every change of the stream.
 */
export interface ChangePosition {
  readonly lsn: bigint;
  readonly seq: number;
}

/** A checkpointed position read back. */
export type ResumePoint =
  | { readonly kind: 'change'; readonly at: ChangePosition }
  /** A row of the initial snapshot; `last` on the snapshot's last row says the snapshot is complete. */
  | { readonly kind: 'snapshot'; readonly last: boolean };

export function changePosition(lsn: string, seq: number): Position {
  return { lsn, seq };
}

export function snapshotPosition(consistentPoint: string, table: number, row: number, last: boolean): Position {
  return last ? { snapshot: consistentPoint, table, row, last: true } : { snapshot: consistentPoint, table, row };
}

export function resumePointOf(position: Position | undefined): ResumePoint | undefined {
  if (position === undefined || position === null) return undefined;
  if (typeof position === 'object' && !Array.isArray(position)) {
    const { lsn, seq, snapshot, last } = position;
    if (typeof lsn === 'string' && typeof seq === 'number') return { kind: 'change', at: { lsn: parseLsn(lsn), seq } };
    if (typeof snapshot === 'string') return { kind: 'snapshot', last: last === true };
  }
  throw new WireError('INVALID_INPUT', `postgres cdc source: checkpoint position ${JSON.stringify(position)} is not one of its positions`);
}

/** Whether the change at `lsn`/`seq` comes at or before `point`. */
export function atOrBefore(lsn: bigint, seq: number, point: ChangePosition | undefined): boolean {
  return point !== undefined && (lsn < point.lsn || (lsn === point.lsn && seq <= point.seq));
}
