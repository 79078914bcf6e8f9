import type { ErrorCode } from '../core/errors.js';
import type { LineFormat } from '../core/line-block.js';
import type { ComponentSpec } from '../core/pipeline.js';
import type { EncodedBatch } from './batch-codec.js';

/** What a transform worker is started with. */
export interface WorkerSetup {
  readonly transformsModule: string;
  readonly transforms: readonly ComponentSpec[];
  readonly transformTimeoutMs: number;
}

export interface ProcessRequest {
  readonly type: 'process';
  readonly id: number;
  readonly batch: EncodedBatch;
}

/** A block of lines to cut into records, transform and render as lines of `out`. */
export interface BlockRequest {
  readonly type: 'block';
  readonly id: number;
  readonly data: Uint8Array;
  readonly format: LineFormat;
  readonly strict: boolean;
  readonly out: LineFormat;
}

export interface CloseRequest {
  readonly type: 'close';
}

/** Rendered chunks the sink has written, sent back (transferred) for the worker to render into again. */
export interface SpareRequest {
  readonly type: 'spare';
  readonly chunks: Uint8Array[];
}

export type WorkerRequest = ProcessRequest | BlockRequest | CloseRequest | SpareRequest;

export interface RejectedError {
  readonly message: string;
  readonly code?: ErrorCode;
  readonly stage: number;
}

export interface ProcessResponse {
  readonly type: 'result';
  readonly id: number;
  readonly records: EncodedBatch;
  readonly rejected: EncodedBatch;
  readonly errors: RejectedError[];
  readonly counts: number[];
}

export interface BlockResponse {
  readonly type: 'blockResult';
  readonly id: number;
  readonly chunks: Uint8Array[];
  readonly count: number;
  readonly received: number;
  readonly rejected: EncodedBatch;
  readonly errors: RejectedError[];
  readonly counts: number[];
  /** The request's `data`, sent back (transferred) once nothing on the worker reads it, so its memory is reused. */
  readonly returned?: Uint8Array;
  /** The chunks came from the worker's render buffers: send them back (`SpareRequest`) once written. */
  readonly rendered?: boolean;
}

export interface ReadyMessage {
  readonly type: 'ready';
}

/** The worker could not start, or a request failed outside any transform (it then exits). */
export interface FatalMessage {
  readonly type: 'fatal';
  readonly message: string;
  readonly code?: ErrorCode;
}

export type WorkerResponse = ProcessResponse | BlockResponse | ReadyMessage | FatalMessage;
