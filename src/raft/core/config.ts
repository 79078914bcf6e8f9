/** RaftConfig defaults and validation. */
import { invariant } from './assert.js';
import { ENVELOPE_BYTES } from './message-size.js';
import type { RaftConfig } from './types.js';

/** Every option resolved to a value (the clock stays optional: only leaseReads needs one). */
export type ResolvedConfig = Required<Omit<RaftConfig, 'clock'>> & Pick<RaftConfig, 'clock'>;

export const DEFAULT_OPTIONS = {
  preVote: true,
  checkQuorum: true,
  leaseReads: false,
  maxEntriesPerMsg: 256,
  maxBytesPerMsg: 1 << 20,
  maxMessageBytes: 16 << 20,
  maxInflight: 64,
  maxUncommittedBytes: 64 << 20,
  maxCommittedBytesPerReady: 16 << 20,
  holdCommit: false,
} as const;

export function resolveConfig(config: RaftConfig): ResolvedConfig {
  const c: ResolvedConfig = { ...DEFAULT_OPTIONS, ...config };
  invariant(c.id.length > 0, 'node id must not be empty');
  invariant(
    Number.isInteger(c.heartbeatTick) && Number.isInteger(c.electionTick) && c.heartbeatTick > 0 && c.electionTick > c.heartbeatTick,
    'need integers 0 < heartbeatTick < electionTick',
  );
  invariant(!c.leaseReads || c.checkQuorum, 'leaseReads requires checkQuorum');
  invariant(!c.leaseReads || (c.clock !== undefined && c.clock.tickMs > 0), 'leaseReads requires a clock');
  for (const key of ['maxEntriesPerMsg', 'maxBytesPerMsg', 'maxInflight', 'maxUncommittedBytes', 'maxCommittedBytesPerReady'] as const) {
    invariant(c[key] > 0, `${key} must be positive`);
  }
  invariant(c.maxMessageBytes >= 2 * ENVELOPE_BYTES, `maxMessageBytes must be at least ${2 * ENVELOPE_BYTES}`);
  return c;
}
