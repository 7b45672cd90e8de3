import { RequestStatusSchema, RoutingTypeSchema } from '@dibs/contracts';
import { bearerSecurity, fieldProblem, type HttpApp, HttpProblem } from '@dibs/http';
import type { onRequestAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import { bookingHash, planBooking } from '../domain/booking.js';
import { decodeCursor, encodeCursor } from '../domain/cursor.js';
import type { SessionRequestsRepository } from '../repositories/session-requests.repository.js';
import { IdParams, problems, SessionRequestResponse } from './schemas.js';

export const CreateSessionRequestBody = z.strictObject({
  session_type: z.string().trim().min(1).max(100),
  plan_code: z.string().trim().min(1).max(100),
  preferred_mechanic_id: z.uuid().nullable().optional(),
  routing_type: RoutingTypeSchema.optional(),
  preferred_workshop_id: z.uuid().nullable().optional(),
});

const IdempotencyHeaders = z.object({ 'idempotency-key': z.string().min(1).max(200).optional() });

const ListQuery = z.strictObject({
  status: RequestStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

export interface SessionRequestRouteDeps {
  customerOnly: onRequestAsyncHookHandler;
  requests: SessionRequestsRepository;
  priorityWindowMinutes: number;
}

/** Booking and reading a customer's own session requests. */
export function registerSessionRequestRoutes(
  app: HttpApp,
  { customerOnly, requests, priorityWindowMinutes }: SessionRequestRouteDeps,
): void {
  const tags = ['session-requests'];

  app.post(
    '/v1/session-requests',
    {
      onRequest: customerOnly,
      schema: {
        tags,
        security: bearerSecurity,
        headers: IdempotencyHeaders,
        body: CreateSessionRequestBody,
        response: {
          200: SessionRequestResponse,
          201: SessionRequestResponse,
          ...problems(400, 401, 403, 413, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const plan = planBooking(request.body);
      if (!plan.ok) {
        throw fieldProblem('body', plan.field, plan.message);
      }
      const outcome = await requests.create({
        customerId: request.principal.sub,
        sessionType: request.body.session_type,
        planCode: request.body.plan_code,
        routingType: plan.routingType,
        preferredMechanicId: plan.preferredMechanicId,
        preferredWorkshopId: plan.preferredWorkshopId,
        priorityWindowMinutes,
        idempotencyKey: request.headers['idempotency-key'] ?? null,
        requestHash: bookingHash(request.body),
      });
      switch (outcome.kind) {
        case 'created':
          request.log.info({ request_id: outcome.request.id }, 'session request created');
          return reply.code(201).header('location', `/v1/session-requests/${outcome.request.id}`).send(outcome.request);
        case 'replayed':
          return reply.code(200).header('idempotent-replayed', 'true').send(outcome.request);
        case 'key_reused':
          throw new HttpProblem(422, 'idempotency_key_reused', 'this Idempotency-Key was used with a different body');
        case 'unknown_customer':
          throw new HttpProblem(401, 'unknown_principal', 'the customer in this token no longer exists');
        case 'no_ranked_favorites':
          throw new HttpProblem(
            422,
            'no_ranked_favorites',
            'routing_type priority_sequence needs at least one ranked favorite (PUT /v1/favorites/order)',
          );
      }
    },
  );

  app.get(
    '/v1/session-requests/:id',
    {
      onRequest: customerOnly,
      schema: {
        tags,
        security: bearerSecurity,
        params: IdParams,
        response: { 200: SessionRequestResponse, ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const found = await requests.get(request.params.id);
      // Another customer's request is indistinguishable from a missing one.
      if (!found || found.customer_id !== request.principal.sub)
        throw new HttpProblem(404, 'not_found', 'no such session request');
      return found;
    },
  );

  app.get(
    '/v1/session-requests',
    {
      onRequest: customerOnly,
      schema: {
        tags,
        security: bearerSecurity,
        querystring: ListQuery,
        response: {
          200: z.object({ items: z.array(SessionRequestResponse), next_cursor: z.string().nullable() }),
          ...problems(400, 401, 403),
        },
      },
    },
    async (request) => {
      const { status, limit, cursor } = request.query;
      const after = cursor === undefined ? undefined : decodeCursor(cursor);
      if (cursor !== undefined && !after) {
        throw fieldProblem('querystring', 'cursor', 'is not a cursor this API issued');
      }
      // One extra row tells whether another page exists.
      const rows = await requests.list(request.principal.sub, { status, limit: limit + 1, after });
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      const next_cursor =
        rows.length > limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null;
      return { items, next_cursor };
    },
  );
}
