/** The public surface of Wire's pure Raft core. */
export { RaftCore } from './raft.js';
export { DEFAULT_OPTIONS } from './config.js';
export { RaftInvariantError } from './assert.js';
export {
  EMPTY_MEMBERSHIP,
  applyConfPayload,
  decodeConfPayload,
  encodeConfPayload,
  isLearner,
  isVoter,
  membershipAfter,
} from './membership.js';
export * from './types.js';
