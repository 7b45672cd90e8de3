import {
  CurrencySchema,
  ExperimentReportSchema,
  FallbackEffectivenessSchema,
  MechanicStatsSchema,
  PrioritySkipsSchema,
  ResponseTimesSchema,
  RevenueReportSchema,
  SuccessRateRowSchema,
  TimeoutRateSchema,
} from '@dibs/contracts';
import { bearerSecurity, type HttpApp } from '@dibs/http';
import type { onRequestAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { AnalyticsClient, RoutingClient } from '../clients/routing.client.js';
import { ExperimentKeyParams, IdParams, problems, SessionRequestResponse } from './schemas.js';

export interface CommandRouteDeps {
  customerOnly: onRequestAsyncHookHandler;
  mechanicOnly: onRequestAsyncHookHandler;
  adminOnly: onRequestAsyncHookHandler;
  routing: RoutingClient;
  analytics: AnalyticsClient;
}

const RangeQuery = z.strictObject({
  from: z.iso.datetime({ offset: true }).optional(),
  to: z.iso.datetime({ offset: true }).optional(),
});

/** Routes answered by routing (accept/decline/cancel) and analytics (reports, stats) over NATS. */
export function registerCommandRoutes(app: HttpApp, deps: CommandRouteDeps): void {
  const { customerOnly, mechanicOnly, adminOnly, routing, analytics } = deps;
  const tags = ['session-requests'];
  const commandSchema = (codes: number[]) => ({
    tags,
    security: bearerSecurity,
    params: IdParams,
    response: { 200: SessionRequestResponse, ...problems(...codes) },
  });

  app.post(
    '/v1/session-requests/:id/cancel',
    { onRequest: customerOnly, schema: commandSchema([400, 401, 403, 404, 409, 503]) },
    async (request) => routing.send('cancel', { request_id: request.params.id, customer_id: request.principal.sub }),
  );
  app.post(
    '/v1/session-requests/:id/accept',
    { onRequest: mechanicOnly, schema: commandSchema([400, 401, 403, 404, 409, 503]) },
    async (request) => routing.send('accept', { request_id: request.params.id, mechanic_id: request.principal.sub }),
  );
  app.post(
    '/v1/session-requests/:id/decline',
    { onRequest: mechanicOnly, schema: commandSchema([400, 401, 403, 404, 409, 503]) },
    async (request) => routing.send('decline', { request_id: request.params.id, mechanic_id: request.principal.sub }),
  );

  app.get(
    '/v1/mechanics/me/stats',
    {
      onRequest: mechanicOnly,
      schema: {
        tags: ['mechanics'],
        security: bearerSecurity,
        response: { 200: MechanicStatsSchema, ...problems(401, 403, 503) },
      },
    },
    async (request) => analytics.report('mechanic_stats', { mechanic_id: request.principal.sub }),
  );

  const reportSchema = <S extends z.ZodType, Q extends z.ZodType>(
    response: S,
    querystring: Q,
    codes: number[] = [],
  ) => ({
    tags: ['analytics'],
    security: bearerSecurity,
    querystring,
    response: { 200: response, ...problems(400, 401, 403, 503, ...codes) },
  });
  app.get(
    '/v1/analytics/priority/success-rate',
    {
      onRequest: adminOnly,
      schema: reportSchema(
        z.array(SuccessRateRowSchema),
        RangeQuery.extend({ min_requests: z.coerce.number().int().min(0).max(1_000_000).default(5) }),
      ),
    },
    async (request) => analytics.report('success_rate', request.query),
  );
  app.get(
    '/v1/analytics/priority/response-times',
    { onRequest: adminOnly, schema: reportSchema(ResponseTimesSchema, RangeQuery) },
    async (request) => analytics.report('response_times', request.query),
  );
  app.get(
    '/v1/analytics/priority/timeout-rate',
    { onRequest: adminOnly, schema: reportSchema(TimeoutRateSchema, RangeQuery) },
    async (request) => analytics.report('timeout_rate', request.query),
  );
  app.get(
    '/v1/analytics/priority/fallback-effectiveness',
    { onRequest: adminOnly, schema: reportSchema(FallbackEffectivenessSchema, RangeQuery) },
    async (request) => analytics.report('fallback_effectiveness', request.query),
  );
  app.get(
    '/v1/analytics/priority/skips',
    { onRequest: adminOnly, schema: reportSchema(PrioritySkipsSchema, RangeQuery) },
    async (request) => analytics.report('priority_skips', request.query),
  );

  app.get(
    '/v1/analytics/experiments/:key',
    {
      onRequest: adminOnly,
      schema: { ...reportSchema(ExperimentReportSchema, z.strictObject({}), [404]), params: ExperimentKeyParams },
    },
    async (request) => analytics.report('experiment', { key: request.params.key }),
  );
  app.get(
    '/v1/analytics/revenue',
    {
      onRequest: adminOnly,
      // 409 `mixed_currencies`: the period's priced requests span currencies and none was named.
      schema: reportSchema(RevenueReportSchema, RangeQuery.extend({ currency: CurrencySchema.optional() }), [409]),
    },
    async (request) => analytics.report('revenue', request.query),
  );
}
