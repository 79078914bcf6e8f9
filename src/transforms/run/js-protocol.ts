import type { ErrorCode } from '../../core/errors.js';

/** What the thread of a `js` transform is started with. */
export interface JsSetup {
  /** Absolute path of the user's module. */
  readonly module: string;
  /** The export to call. */
  readonly name: string;
  /** Only load the module and answer with its exported functions (`JsExports`), for `wire validate`. */
  readonly probe?: boolean;
}

/** Records' values as JSON texts, end to end in `text`, one length per record. */
export interface JsRequest {
  readonly id: number;
  readonly text: string;
  readonly lengths: Uint32Array;
}

/** Why the record at `at` (its index in the request) was not transformed. */
export interface JsFailure {
  readonly at: number;
  readonly message: string;
  readonly code?: ErrorCode;
}

/**
 * What the function made of a request's records: `outputs[i]` values for record i (0: dropped, several:
 * split, -1: failed, with its entry in `failures`), the values end to end in `text`, one length each, and
 * `strings[k]` set where value k is a string (sent as itself, not as JSON).
 */
export interface JsResponse {
  readonly type: 'result';
  readonly id: number;
  readonly outputs: Int32Array;
  readonly text: string;
  readonly lengths: Uint32Array;
  readonly strings: Uint8Array;
  readonly failures: JsFailure[];
}

/** The module could not be loaded, or has no such function: every record would fail the same way. */
export interface JsFatal {
  readonly type: 'fatal';
  readonly message: string;
  readonly code?: ErrorCode;
}

/** A probe's answer: the module loaded, and these are its exports that are functions (`default` among them). */
export interface JsExports {
  readonly type: 'exports';
  readonly functions: string[];
}

export type JsMessage = JsResponse | JsFatal | JsExports;
