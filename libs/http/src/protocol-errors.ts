import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Problem, problem, sendProblem } from './problem.js';

// What Node's HTTP server refuses on its own (before or instead of Fastify's routing) is answered
// with problem+json like every other error (CONTRACT §3): Node and Fastify would send an empty or
// plain application/json body.

/**
 * An upgrade request (a WebSocket handshake) owns its socket: Node's HTTP machinery has let go of
 * it, and the WebSocket plugin closes it only from its own hooks, which do not run when the router
 * or an earlier hook refuses the request. Unless closed here after its answer, each such socket
 * would stay open for good (and keep the server's `close()` waiting for it).
 */
function closeUpgradeAfterAnswer(request: FastifyRequest, reply: FastifyReply): void {
  // Node flags the requests it hands to 'upgrade' listeners (untyped in @types/node).
  if (!(request.raw as IncomingMessage & { upgrade?: boolean }).upgrade) return;
  const socket = request.raw.socket;
  reply.header('connection', 'close');
  reply.raw.once('finish', () => socket.destroy());
}

/**
 * Fastify's `frameworkErrors`: what the router refuses before any hook runs (bad percent-encoding,
 * an over-long path parameter).
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  closeUpgradeAfterAnswer(request, reply);
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return sendProblem(reply, problem(414, 'uri_too_long', 'a path parameter is longer than 100 characters'));
  }
  if (err.code === 'FST_ERR_BAD_URL') {
    return sendProblem(reply, problem(400, 'bad_url', 'the path is not valid percent-encoded UTF-8'));
  }
  return sendProblem(reply, problem(500, 'internal', 'something went wrong; it has been logged'));
}

/**
 * Fastify's `clientErrorHandler`: a request Node's parser refuses (header block over
 * `maxHeaderSize`, a broken request line or framing, one that never completes) gets a problem,
 * then the connection is dropped, as Node does.
 */
export function clientErrorHandler(this: { log: FastifyBaseLogger }, err: Error & { code?: string }, socket: Socket) {
  // A reset connection has no one left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const p =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? problem(408, 'request_timeout', 'the request did not arrive in time')
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? problem(431, 'headers_too_large', 'the request line and headers are larger than the server accepts')
        : problem(400, 'bad_request', 'the request is not valid HTTP/1.1');
  this.log.debug({ err: { code: err.code, message: err.message } }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify(p satisfies Problem);
    socket.write(
      `HTTP/1.1 ${p.status} ${p.title}\r\nContent-Type: application/problem+json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}

/**
 * The other two answers Node gives by itself: 400 to an HTTP/1.1 request without Host (the app
 * must be created with `http: { requireHostHeader: false }` so the request reaches this hook),
 * and 417 to an `Expect` other than 100-continue. Also closes the socket of every refused upgrade.
 */
export function answerProtocolErrors(app: FastifyInstance): void {
  // A successful upgrade is hijacked and never sends a reply: only refusals pass here.
  app.addHook('onSend', async (request, reply) => closeUpgradeAfterAnswer(request, reply));
  app.addHook('onRequest', async (request, reply) => {
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      return sendProblem(reply, problem(400, 'missing_host', 'an HTTP/1.1 request needs a Host header'));
    }
  });
  app.server.on('checkExpectation', (_request, response: ServerResponse) => {
    const body = JSON.stringify(problem(417, 'expectation_failed', 'only Expect: 100-continue is supported'));
    response
      .writeHead(417, {
        'content-type': 'application/problem+json; charset=utf-8',
        'content-length': Buffer.byteLength(body),
        connection: 'close',
      })
      .end(body);
  });
}

/**
 * What Fastify's `return503OnClosing` would answer (it is off): a request that arrives while the
 * app closes (on a kept-alive connection, or accepted just before the listener stopped) gets 503
 * problem+json with Retry-After and `connection: close`. Going through the hooks, a refused
 * WebSocket handshake has its socket closed like any other refused upgrade.
 */
export function refuseWhileClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    return sendProblem(reply, problem(503, 'shutting_down', 'this instance is shutting down; retry'), {
      'retry-after': '1',
    });
  });
}
