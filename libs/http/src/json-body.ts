import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { HttpProblem } from './problem.js';

/**
 * Parses JSON bodies as Fastify does (`__proto__` and `constructor.prototype` refused), after
 * refusing bytes that are not UTF-8 (RFC 8259 §8.1). Fastify would decode them to U+FFFD and the
 * request would store text the client never sent (as a lone surrogate would: see text-guard.ts).
 */
export function strictJsonBodies(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    if (!isUtf8(body as Buffer)) {
      done(
        new HttpProblem(400, 'invalid_json', 'the body is not valid UTF-8', {}, [
          { in: 'body', field: '', message: 'is not valid UTF-8' },
        ]),
        undefined,
      );
      return;
    }
    parse(request, (body as Buffer).toString('utf8'), done);
  });
}
