import { WireError } from './errors.js';

/** A component in a pipeline file: a registered type and its config. */
export interface ComponentSpec {
  readonly type: string;
  readonly config: Readonly<Record<string, unknown>>;
}

export type OnError = 'dead_letter' | 'fail' | 'drop';

export interface RetrySpec {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** First backoff, in milliseconds. */
  readonly initialMs: number;
  /** Largest backoff, in milliseconds. */
  readonly maxMs: number;
}

/** Full jitter: a uniform delay in [0, min(max, initial * 2^(attempt-1))), which spreads retrying clients apart. */
export function backoffDelay(spec: RetrySpec, attempt: number, random: () => number): number {
  const ceiling = Math.min(spec.maxMs, spec.initialMs * 2 ** (attempt - 1));
  return Math.floor(random() * ceiling);
}

export type Workers = number | 'auto';

/** A validated pipeline, as the engine and the cluster see it. */
export interface PipelineSpec {
  readonly name: string;
  readonly source: ComponentSpec;
  readonly transforms: readonly ComponentSpec[];
  readonly sink: ComponentSpec;
  readonly deadLetter?: ComponentSpec;
  /** Lanes; records with the same key stay in order. */
  readonly parallelism: number;
  /**
   * Worker threads for transforms; 0 runs them on the main thread. `auto` lets the engine choose: one per
   * core where it pays (a large input on the line-block path with only stateless transforms), else 0.
   */
  readonly workers: Workers;
  /** Records per second, or undefined for no limit. */
  readonly rateLimit?: number;
  readonly onError: OnError;
  readonly retry: RetrySpec;
  /** Records per batch read from the source. */
  readonly batchSize: number;
  /**
   * How long one transform may take over one batch (ms; default `DEFAULT_TRANSFORM_TIMEOUT_MS`): past it the
   * batch's records go to `onError` with a TIMEOUT error and the transform is told to give up (`js` restarts
   * its thread).
   */
  readonly transformTimeoutMs?: number;
  /** In a cluster, which nodes may run its tasks. */
  readonly placement?: Placement;
}

export interface Placement {
  readonly node?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export const PIPELINE_NAME = /^[a-z0-9_-]{1,63}$/;

/** Far above any transform's normal time per batch, so only a stuck one reaches it. */
export const DEFAULT_TRANSFORM_TIMEOUT_MS = 30_000;

export const DEFAULT_RETRY: RetrySpec = { maxAttempts: 5, initialMs: 100, maxMs: 10_000 };

export const PIPELINE_STATES = ['created', 'running', 'stopped', 'failed'] as const;
export type PipelineState = (typeof PIPELINE_STATES)[number];

/** Which lifecycle moves are allowed: a failed pipeline may be restarted, a stopped one too. */
const TRANSITIONS: Readonly<Record<PipelineState, readonly PipelineState[]>> = {
  created: ['running', 'stopped'],
  running: ['stopped', 'failed'],
  stopped: ['running'],
  failed: ['running', 'stopped'],
};

export interface PipelineStatus {
  readonly state: PipelineState;
  /** Increases by one on every change of spec or state; a writer names the version it saw (CONFLICT otherwise). */
  readonly version: number;
  readonly error?: string;
}

export function canTransition(from: PipelineState, to: PipelineState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The next status after moving to `to`; CONFLICT if the move is not allowed. */
export function transition(status: PipelineStatus, to: PipelineState, error?: string): PipelineStatus {
  if (!canTransition(status.state, to)) {
    throw new WireError('CONFLICT', `pipeline cannot go from ${status.state} to ${to}`, {
      from: status.state,
      to,
    });
  }
  return to === 'failed'
    ? { state: to, version: status.version + 1, error: error ?? 'failed' }
    : { state: to, version: status.version + 1 };
}

export function initialStatus(): PipelineStatus {
  return { state: 'created', version: 1 };
}
