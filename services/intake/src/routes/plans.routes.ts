import { bearerSecurity, type HttpApp } from '@dibs/http';
import type { onRequestAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { PlansRepository } from '../repositories/plans.repository.js';
import { PlanCodeParams, PlanSchema, PutPlanBody, problems } from './schemas.js';

/** Plans and their prices (CONTRACT §7), admin only: what an accepted request earns. */
export function registerPlanRoutes(
  app: HttpApp,
  { adminOnly, plans }: { adminOnly: onRequestAsyncHookHandler; plans: PlansRepository },
): void {
  const common = { onRequest: adminOnly };
  const tags = ['admin'];

  app.put(
    '/v1/admin/plans/:code',
    {
      ...common,
      schema: {
        tags,
        security: bearerSecurity,
        params: PlanCodeParams,
        body: PutPlanBody,
        response: { 200: PlanSchema, 201: PlanSchema, ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const { created, plan } = await plans.put(request.params.code, request.body);
      return reply.code(created ? 201 : 200).send(plan);
    },
  );

  app.get(
    '/v1/admin/plans',
    {
      ...common,
      schema: { tags, security: bearerSecurity, response: { 200: z.array(PlanSchema), ...problems(401, 403) } },
    },
    async () => plans.list(),
  );
}
