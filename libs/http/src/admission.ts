import type { FastifyInstance } from 'fastify';
import { Gauge, type Registry } from 'prom-client';
import { problem, sendProblem } from './problem.js';

export interface AdmissionOptions {
  /** Requests handled at once; the next one is refused until one finishes. */
  maxInFlight: number;
  /** Told to a refused client. */
  retryAfterSeconds?: number;
  /** Paths never refused (probes, metrics). */
  exempt?: ReadonlySet<string>;
  metrics?: Registry;
}

/**
 * Sheds load at the door: once `maxInFlight` requests are being handled, further ones get 503
 * problem+json with `Retry-After` at once, before anything is read from or written to a
 * backing service, so a refused request has done nothing. Past its capacity a service that
 * queues instead answers everyone late (Little's law: in flight = rate × latency); capping what
 * is in flight caps the queueing a request can meet at about `maxInFlight / throughput`.
 */
export function limitInFlight(app: FastifyInstance, opts: AdmissionOptions): void {
  const retryAfter = String(opts.retryAfterSeconds ?? 1);
  const exempt = opts.exempt ?? new Set<string>();
  let inFlight = 0;
  if (opts.metrics) {
    new Gauge({
      name: 'http_requests_in_flight',
      help: 'Requests being handled now (admission control refuses past its limit)',
      registers: [opts.metrics],
      collect() {
        this.set(inFlight);
      },
    });
  }
  app.addHook('onRequest', async (request, reply) => {
    if (exempt.has(request.url.split('?')[0] ?? '')) return;
    if (inFlight >= opts.maxInFlight) {
      return sendProblem(reply, problem(503, 'overloaded', 'too many requests in progress; retry shortly'), {
        'retry-after': retryAfter,
      });
    }
    inFlight++;
    // 'close' comes once per response: after it was sent, or when the client went away first
    // (when Fastify's onResponse never runs).
    reply.raw.once('close', () => {
      inFlight--;
    });
  });
}
