import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { type FieldError, HttpProblem, problem, sendProblem } from './problem.js';

/** A 400 naming one invalid field. */
export function fieldProblem(where: string, field: string, message: string): HttpProblem {
  return new HttpProblem(400, 'validation_failed', `${where}.${field}: ${message}`, {}, [
    { in: where, field, message },
  ]);
}

export interface ErrorHandlerOptions {
  /** Recognises "dependency down" errors (e.g. PostgreSQL unreachable) to answer 503 + Retry-After. */
  isUnavailable?: (err: unknown) => boolean;
}

/**
 * Maps every error to problem+json: validation → 400 naming each field, oversized body → 413,
 * a dependency down → 503 with Retry-After, anything unexpected → 500 without internals.
 */
export function installErrorHandlers(app: FastifyInstance, { isUnavailable }: ErrorHandlerOptions = {}): void {
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, problem(404, 'not_found', `no route for ${request.method} ${request.url.split('?')[0]}`)),
  );

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err instanceof HttpProblem) {
      return sendProblem(reply, problem(err.status, err.code, err.message, err.errors), err.headers);
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const errors: FieldError[] = err.validation.map((v) => ({
        in: err.validationContext ?? 'body',
        field: v.instancePath.replace(/^\//, '').replaceAll('/', '.'),
        message: v.message ?? 'is invalid',
      }));
      const detail = errors.map((e) => `${e.in}${e.field ? `.${e.field}` : ''}: ${e.message}`).join('; ');
      return sendProblem(reply, problem(400, 'validation_failed', detail, errors));
    }
    if (isUnavailable?.(err)) {
      request.log.warn({ err: { message: err.message } }, 'dependency unavailable');
      return sendProblem(reply, problem(503, 'unavailable', 'a backing service is unavailable; retry shortly'), {
        'retry-after': '5',
      });
    }
    const status = err.statusCode ?? 500;
    if (status === 413) return sendProblem(reply, problem(413, 'payload_too_large', 'the body is larger than 64 KiB'));
    if (status === 415) return sendProblem(reply, problem(415, 'unsupported_media_type', err.message));
    if (status === 503) {
      // @fastify/under-pressure: the process is starved of CPU.
      return sendProblem(reply, problem(503, 'overloaded', 'the service is overloaded; retry shortly'), {
        'retry-after': '1',
      });
    }
    if (status === 429) return sendProblem(reply, problem(429, 'rate_limited', err.message), { 'retry-after': '1' });
    if (
      err.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ||
      err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
      err instanceof SyntaxError
    ) {
      return sendProblem(
        reply,
        problem(400, 'invalid_json', 'the body is not valid JSON', [{ in: 'body', field: '', message: err.message }]),
      );
    }
    if (status >= 400 && status < 500) {
      return sendProblem(reply, problem(status, 'bad_request', err.message));
    }
    request.log.error({ err }, 'unhandled error');
    return sendProblem(reply, problem(500, 'internal', 'something went wrong; it has been logged'));
  });
}
