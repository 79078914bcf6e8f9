/**
 * Every error the API answers is `{ error: { code, message, details } }` with the status of the WireError table
 * (core/errors.ts), whatever raised it: a WireError from the cluster, a schema check of Fastify's (400, naming the
 * field), a body too large (413) or of a type no route reads (415), an unknown route (404).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { WireError, type ErrorCode, type ErrorDetails } from '../core/errors.js';

export interface HttpError {
  readonly status: number;
  readonly error: WireError;
}

/** `/body/to` → `body.to`; the root of a part is the part's name. */
function fieldOf(location: string | undefined, instancePath: string, missing: unknown): string {
  const parts = [location ?? 'body', ...instancePath.split('/').filter((p) => p !== '')];
  if (typeof missing === 'string') parts.push(missing);
  return parts.join('.');
}

function validationError(error: FastifyError): WireError {
  const first = error.validation?.[0];
  const missing = first?.params['missingProperty'] ?? first?.params['additionalProperty'];
  const field = fieldOf(error.validationContext, first?.instancePath ?? '', missing);
  const reason = first?.keyword === 'additionalProperties' ? 'is not a known field' : (first?.message ?? 'is invalid');
  return new WireError('INVALID_INPUT', `${field}: ${reason}`, { field });
}

/** Fastify's own client errors, each with its status and our code. */
const FASTIFY_CLIENT_ERRORS: Readonly<Record<string, { status: number; code: ErrorCode }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'INVALID_INPUT' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'INVALID_INPUT' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'INVALID_INPUT' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'INVALID_INPUT' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'INVALID_INPUT' },
};

/** The status and WireError to answer for anything a route or Fastify threw. */
export function toHttpError(thrown: unknown, limits: { bodyLimit: number }): HttpError {
  if (thrown instanceof WireError) return { status: thrown.httpStatus, error: thrown };
  const error = thrown as Partial<FastifyError> & Error;
  if (error.validation !== undefined) return { status: 400, error: validationError(error as FastifyError) };
  const known = error.code === undefined ? undefined : FASTIFY_CLIENT_ERRORS[error.code];
  if (known !== undefined) {
    const details: ErrorDetails = error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? { field: 'body', limit: limits.bodyLimit } : { field: 'body' };
    return { status: known.status, error: new WireError(known.code, error.message, details) };
  }
  // A JSON body Fastify could not parse arrives as a SyntaxError with status 400.
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return { status: error.statusCode, error: new WireError('INVALID_INPUT', error.message, { field: 'body' }) };
  }
  return { status: 500, error: new WireError('INTERNAL', `internal error: ${error.message}`, {}, error) };
}

export function sendError(reply: FastifyReply, { status, error }: HttpError): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(error.toJSON());
}

export function notFoundError(request: FastifyRequest): WireError {
  return new WireError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`, { method: request.method });
}
