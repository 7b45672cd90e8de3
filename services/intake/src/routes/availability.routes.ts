import { bearerSecurity, type HttpApp } from '@dibs/http';
import type { onRequestAsyncHookHandler } from 'fastify';
import type { AvailabilityRepository } from '../repositories/availability.repository.js';
import { AvailabilitySchema, PutAvailabilityBody, problems } from './schemas.js';

/** A mechanic's own availability (CONTRACT §6): whether, when and in which time zone they take offers. */
export function registerAvailabilityRoutes(
  app: HttpApp,
  { mechanicOnly, availability }: { mechanicOnly: onRequestAsyncHookHandler; availability: AvailabilityRepository },
): void {
  const tags = ['mechanics'];
  const common = { onRequest: mechanicOnly };

  app.get(
    '/v1/mechanics/me/availability',
    {
      ...common,
      schema: { tags, security: bearerSecurity, response: { 200: AvailabilitySchema, ...problems(401, 403) } },
    },
    async (request) => availability.get(request.principal.sub),
  );

  app.put(
    '/v1/mechanics/me/availability',
    {
      ...common,
      schema: {
        tags,
        security: bearerSecurity,
        body: PutAvailabilityBody,
        response: { 200: AvailabilitySchema, ...problems(400, 401, 403) },
      },
    },
    async (request) => availability.put(request.principal.sub, request.body),
  );
}
