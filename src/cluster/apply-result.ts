/** What `apply` returns for each entry, and how a proposer turns it into an answer. */
import { WireError } from '../core/errors.js';
import type { CommandOutcome } from './transitions.js';

export type ApplyResult =
  | { readonly status: 'applied'; readonly index: number; readonly outcome: CommandOutcome }
  | { readonly status: 'rejected'; readonly index: number; readonly error: WireError }
  /** At or below the applied index: applied before (its result went to whoever waited then). */
  | { readonly status: 'skipped'; readonly index: number };

/**
 * The outcome of a proposal from the result Raft resolved it with (`ProposeOutcome.result`); throws the
 * command's WireError when apply rejected it.
 */
export function outcomeOf(result: unknown): CommandOutcome {
  const r = result as Partial<ApplyResult> | null | undefined;
  if (r?.status === 'applied' && r.outcome !== undefined) return r.outcome;
  if (r?.status === 'rejected' && r.error instanceof WireError) throw r.error;
  throw new WireError('INTERNAL', `the proposal has no result of its own (${r?.status ?? 'none'})`, { index: r?.index });
}
