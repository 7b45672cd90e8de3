import { randomUUID } from 'node:crypto';
import { loggerOptions } from '@dibs/logger';
import fastifyHelmet from '@fastify/helmet';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import underPressure from '@fastify/under-pressure';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import { limitInFlight } from './admission.js';
import { type ErrorHandlerOptions, installErrorHandlers } from './error-handler.js';
import { strictJsonBodies } from './json-body.js';
import { createMetrics, instrumentHttp } from './metrics.js';
import { answerProtocolErrors, clientErrorHandler, frameworkErrors, refuseWhileClosing } from './protocol-errors.js';

const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

export type HttpApp = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface HttpAppOptions extends ErrorHandlerOptions {
  service: string;
  logLevel?: string;
  /** A pino logger to reuse instead of creating one. */
  logger?: FastifyBaseLogger;
  /**
   * Requests handled at once before further ones are refused with 503 (see `limitInFlight`);
   * no limit when unset.
   */
  maxInFlight?: number;
  /** OpenAPI document info; when set the document is served at /docs/json and the UI at /docs. */
  openapi?: { title: string; version: string; description?: string };
}

/**
 * A Fastify app with dibs' conventions: zod type provider, request ids (`x-request-id` in and out),
 * 64 KiB body limit, UTF-8 JSON bodies, problem+json errors (Node's own refusals included),
 * Prometheus metrics, optional OpenAPI at /docs.
 */
export async function createHttpApp(opts: HttpAppOptions): Promise<{ app: HttpApp; metrics: Registry }> {
  const app = Fastify({
    ...(opts.logger
      ? { loggerInstance: opts.logger }
      : { logger: loggerOptions({ service: opts.service, level: opts.logLevel ?? 'info' }) }),
    bodyLimit: 64 * 1024,
    requestIdHeader: 'x-request-id',
    // One line per request, written when it completes (below), instead of Fastify's two.
    logController: new LogController({ requestIdLogLabel: 'req_id', disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    // Errors the router raises before any hook runs are problem+json too (CONTRACT §3).
    frameworkErrors,
    clientErrorHandler,
    // Lets a request without Host through to answerProtocolErrors' problem+json instead of Node's bare 400.
    http: { requireHostHeader: false },
    // A request that arrives while the app closes gets our problem+json 503 (below) instead of
    // Fastify's, which is bare JSON and skips every hook: a WebSocket handshake refused that way
    // kept its socket open, and the server's close() waited on it for good.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
  }).withTypeProvider<ZodTypeProvider>();

  answerProtocolErrors(app);
  refuseWhileClosing(app);
  strictJsonBodies(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  installErrorHandlers(app, opts);
  // Probes and scrapes arrive every few seconds from every kubelet and Prometheus: not worth a line.
  app.addHook('onResponse', async (request, reply) => {
    if (QUIET_PATHS.has(request.url.split('?')[0] ?? '')) return;
    // `req` and `res` go through the logger's serializers (the gateway's strips ?token=).
    request.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  });

  const metrics = createMetrics(opts.service);
  instrumentHttp(app, metrics);

  await app.register(fastifyHelmet, { contentSecurityPolicy: false, global: true });
  // Shed load with 503 + Retry-After instead of queueing: when too many requests are in progress
  // (the usual sign of running past capacity), and when the process is starved of CPU (its event
  // loop's mean delay over the last second above 200 ms).
  if (opts.maxInFlight !== undefined) {
    limitInFlight(app, { maxInFlight: opts.maxInFlight, exempt: QUIET_PATHS, metrics });
  }
  // The loop-delay bound is a last resort: a test machine running many suites at once sees means
  // of tens of ms, and must not be told "overloaded"; the in-flight limit does the everyday work.
  await app.register(underPressure, { maxEventLoopDelay: 200, retryAfter: 1, exposeStatusRoute: false });
  if (opts.openapi) {
    await app.register(fastifySwagger, {
      openapi: {
        openapi: '3.1.0',
        info: opts.openapi,
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
        security: [{ bearer: [] }],
      },
      transform: jsonSchemaTransform,
    });
    await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  }
  return { app: app as HttpApp, metrics };
}
