/**
 * Cluster configurations: encoding of conf-change entries and the pure rule that turns one
 * configuration into the next. The driver uses `membershipAfter` to know the membership at the index
 * of a snapshot it takes.
 */
import { invariant, RaftInvariantError } from './assert.js';
import {
  ENTRY_CONF_CHANGE,
  type ConfChange,
  type ConfPayload,
  type Entry,
  type Member,
  type Membership,
  type NodeId,
} from './types.js';

export const EMPTY_MEMBERSHIP: Membership = { voters: [], learners: [] };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Encodes a conf payload as the data of an ENTRY_CONF_CHANGE entry (UTF-8 JSON: small and readable). */
export function encodeConfPayload(payload: ConfPayload): Uint8Array {
  return encoder.encode(JSON.stringify(payload));
}

function isMember(value: unknown): value is Member {
  if (typeof value !== 'object' || value === null) return false;
  const m = value as { id?: unknown; address?: unknown };
  return typeof m.id === 'string' && typeof m.address === 'string';
}

function isMemberList(value: unknown): value is Member[] {
  return Array.isArray(value) && value.every(isMember);
}

/** Decodes and validates a conf-change entry's data; throws on data the core never writes. */
export function decodeConfPayload(data: Uint8Array): ConfPayload {
  const parsed: unknown = JSON.parse(decoder.decode(data));
  invariant(typeof parsed === 'object' && parsed !== null, 'conf entry: not an object');
  const p = parsed as { op?: unknown; member?: unknown; id?: unknown; membership?: unknown };
  switch (p.op) {
    case 'addLearner':
      invariant(isMember(p.member), 'conf entry: addLearner without member');
      return { op: 'addLearner', member: { id: p.member.id, address: p.member.address } };
    case 'promote':
    case 'remove':
      invariant(typeof p.id === 'string', `conf entry: ${p.op} without id`);
      return { op: p.op, id: p.id };
    case 'bootstrap': {
      const m = p.membership as { voters?: unknown; learners?: unknown } | null;
      invariant(typeof m === 'object' && m !== null, 'conf entry: bootstrap without membership');
      invariant(isMemberList(m.voters) && isMemberList(m.learners), 'conf entry: bad bootstrap membership');
      return { op: 'bootstrap', membership: { voters: m.voters, learners: m.learners } };
    }
    default:
      throw new RaftInvariantError(`conf entry: unknown op ${String(p.op)}`);
  }
}

export function isVoter(m: Membership, id: NodeId): boolean {
  return m.voters.some((v) => v.id === id);
}

export function isLearner(m: Membership, id: NodeId): boolean {
  return m.learners.some((v) => v.id === id);
}

export function isMemberOf(m: Membership, id: NodeId): boolean {
  return isVoter(m, id) || isLearner(m, id);
}

/** Every member, voters first. */
export function allMembers(m: Membership): Member[] {
  return [...m.voters, ...m.learners];
}

/** Why `cc` cannot apply to `m`, or null when it can. */
export function confChangeError(m: Membership, cc: ConfChange): string | null {
  switch (cc.op) {
    case 'addLearner':
      return isMemberOf(m, cc.member.id) ? `${cc.member.id} is already a member` : null;
    case 'promote':
      return isLearner(m, cc.id) ? null : `${cc.id} is not a learner`;
    case 'remove':
      if (!isMemberOf(m, cc.id)) return `${cc.id} is not a member`;
      // Removing the last voter would leave a cluster that can never elect a leader again.
      if (isVoter(m, cc.id) && m.voters.length === 1) return `${cc.id} is the last voter`;
      return null;
  }
}

/**
 * The configuration after a payload. An invalid change (possible only if two leaders' proposals were
 * validated against different configurations, which single-change-at-a-time prevents) is a no-op, so
 * every node still computes the same result from the same log.
 */
export function applyConfPayload(m: Membership, payload: ConfPayload): Membership {
  if (payload.op === 'bootstrap') return payload.membership;
  if (confChangeError(m, payload) !== null) return m;
  switch (payload.op) {
    case 'addLearner':
      return { voters: m.voters, learners: [...m.learners, payload.member] };
    case 'promote': {
      const member = m.learners.find((l) => l.id === payload.id);
      invariant(member !== undefined, 'promote: learner vanished');
      return { voters: [...m.voters, member], learners: m.learners.filter((l) => l.id !== payload.id) };
    }
    case 'remove':
      return {
        voters: m.voters.filter((v) => v.id !== payload.id),
        learners: m.learners.filter((l) => l.id !== payload.id),
      };
  }
}

/** The membership after `entry` (unchanged for a normal entry). */
export function membershipAfter(m: Membership, entry: Entry): Membership {
  if (entry.type !== ENTRY_CONF_CHANGE) return m;
  return applyConfPayload(m, decodeConfPayload(entry.data));
}
