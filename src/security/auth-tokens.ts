/**
 * Bearer tokens: what one looks like, how it is stored and how a presented one is checked.
 *
 * A token is `wire_` and 43 base64url characters: 256 random bits, with a prefix that secret scanners and people
 * recognise. The replicated state keeps only its SHA-256 (`hash`), under an id made of the hash's first 16 hex
 * digits, so a presented token is found by one lookup and compared in constant time. SHA-256 is the right hash
 * here, not bcrypt or argon2: those slow down guessing a low-entropy password, while no guess at 2^256 secrets
 * can succeed however fast each one is, and a slow hash would cost milliseconds on every API call.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { WireError } from '../core/errors.js';

export const TOKEN_PREFIX = 'wire_';
const SECRET_BYTES = 32;

export const ROLES = ['admin', 'operator', 'viewer', 'join'] as const;
export type Role = (typeof ROLES)[number];

/** A token as the replicated state stores it: never the token itself. */
export interface TokenRecord {
  readonly id: string;
  /** SHA-256 of the whole token, hex. */
  readonly hash: string;
  readonly role: Role;
  /** Pipeline name patterns (`*` matches any run of characters) the token is limited to; null: every pipeline. */
  readonly pipelines: readonly string[] | null;
  /** What the token is for, as its creator said. */
  readonly name: string;
  readonly createdAt: number;
  /** Who created it: a token id, or `node:<id>` for a node's first start. */
  readonly createdBy: string;
  /** Milliseconds since the epoch; null: no expiry. */
  readonly expiresAt: number | null;
  /** Kept (not deleted) when revoked, so a node's first start never recreates a revoked admin token. */
  readonly revokedAt: number | null;
}

/** Who made a request: the identity every authorization and audit entry names. */
export interface Principal {
  readonly tokenId: string;
  readonly role: Role;
  readonly pipelines: readonly string[] | null;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function tokenIdOf(hash: string): string {
  return hash.slice(0, 16);
}

/** A new token: shown once to whoever asked for it; only `hash` and `id` are kept. */
export function generateToken(): { token: string; hash: string; id: string } {
  const token = TOKEN_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');
  const hash = hashToken(token);
  return { token, hash, id: tokenIdOf(hash) };
}

/** Refuses strings too short to be secret: a join token given on the command line may be chosen by a person. */
export const MIN_TOKEN_LENGTH = 32;
/** Longer than any token: what is longer is not hashed at all. */
const MAX_TOKEN_LENGTH = 512;

/** The id and hash of a presented token; UNAUTHORIZED when it cannot be a token at all. */
export function identifyToken(presented: string): { id: string; hash: string } {
  if (presented.length < MIN_TOKEN_LENGTH || presented.length > MAX_TOKEN_LENGTH) throw unauthorized('the token is not a Wire token');
  const hash = hashToken(presented);
  return { id: tokenIdOf(hash), hash };
}

/**
 * The record a presented token (`hash`) stands for, or the UNAUTHORIZED error that says why not (unknown, revoked,
 * expired). `now` is this node's clock: every node judges expiry against its own.
 */
export function verifyToken(record: TokenRecord | undefined, hash: string, now: number): TokenRecord {
  if (!record || !timingSafeEqual(Buffer.from(record.hash, 'hex'), Buffer.from(hash, 'hex'))) throw unauthorized('the token is not known to this cluster');
  if (record.revokedAt !== null) throw unauthorized(`token ${record.id} was revoked`, { token: record.id });
  if (record.expiresAt !== null && record.expiresAt <= now) throw unauthorized(`token ${record.id} has expired`, { token: record.id });
  return record;
}

function unauthorized(message: string, details: Record<string, unknown> = {}): WireError {
  return new WireError('UNAUTHORIZED', message, details);
}

/** The pipeline-name patterns a token may be limited to: pipeline-name characters and `*`. */
export const PIPELINE_PATTERN = /^[a-z0-9_*-]{1,63}$/;

/** Whether `name` matches one of `patterns` (null: no limit). */
export function pipelineAllowed(patterns: readonly string[] | null, name: string): boolean {
  if (patterns === null) return true;
  return patterns.some((p) => globToRegExp(p).test(name));
}

/** Safe as it is: a pattern holds no character a regular expression reads specially but `*`. */
function globToRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').join('.*')}$`);
}
