/**
 * Errors of Wire's Raft. Each has a stable `code` so callers (and Wire's WireError mapping) can branch
 * on it without `instanceof` across module copies.
 */
import type { NodeId } from './core/types.js';

export type RaftErrorCode = 'NOT_LEADER' | 'TIMEOUT' | 'STOPPED' | 'UNAVAILABLE' | 'CORRUPT_STORAGE' | 'INVALID_ARGUMENT' | 'CONFLICT';

export class RaftError extends Error {
  constructor(
    readonly code: RaftErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The request needs the leader; `leaderId`/`leaderAddress` say where to retry, when known. */
export class NotLeaderError extends RaftError {
  constructor(
    readonly leaderId: NodeId | null,
    readonly leaderAddress: string | null,
  ) {
    super('NOT_LEADER', leaderId === null ? 'not the leader; no leader known' : `not the leader; leader is ${leaderId}`);
  }
}

export class TimeoutError extends RaftError {
  constructor(what: string, ms: number) {
    super('TIMEOUT', `${what} timed out after ${ms} ms`);
  }
}

export class StoppedError extends RaftError {
  constructor() {
    super('STOPPED', 'the raft node is stopped');
  }
}

/** Durable state that cannot be repaired by truncation (e.g. a corrupt hard state or snapshot). */
export class CorruptStorageError extends RaftError {
  constructor(message: string) {
    super('CORRUPT_STORAGE', message);
  }
}

/** The leader cannot take the request now (transfer in progress, too many uncommitted bytes, a pending conf change): retry later. */
export class UnavailableError extends RaftError {
  constructor(detail: string) {
    super('UNAVAILABLE', detail);
  }
}

/** A proposal too large to travel in one append under the transport's frame limit (`raft.maxMessageBytes`). */
export class EntryTooLargeError extends RaftError {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super('INVALID_ARGUMENT', `a proposal of ${size} bytes exceeds the limit of ${limit} bytes (raft.maxMessageBytes less the append's own fields)`);
  }
}
