import { bearerSecurity, type HttpApp, HttpProblem } from '@dibs/http';
import type { onRequestAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { FavoritesRepository } from '../repositories/favorites.repository.js';
import { FavoriteSchema, FavoritesOrderBody, MechanicIdParams, problems } from './schemas.js';

/** A customer's favorites, including the seed's `/favorites/status` shape. */
export function registerFavoriteRoutes(
  app: HttpApp,
  { customerOnly, favorites }: { customerOnly: onRequestAsyncHookHandler; favorites: FavoritesRepository },
): void {
  const tags = ['favorites'];
  const common = { onRequest: customerOnly };

  app.put(
    '/v1/favorites/:mechanic_id',
    {
      ...common,
      schema: {
        tags,
        security: bearerSecurity,
        params: MechanicIdParams,
        response: {
          200: z.object({ mechanic_id: z.uuid(), favorite: z.literal(true) }),
          201: z.object({ mechanic_id: z.uuid(), favorite: z.literal(true) }),
          ...problems(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const outcome = await favorites.add(request.principal.sub, request.params.mechanic_id);
      if (outcome === 'unknown_mechanic') throw new HttpProblem(404, 'not_found', 'no such mechanic');
      return reply
        .code(outcome === 'added' ? 201 : 200)
        .send({ mechanic_id: request.params.mechanic_id, favorite: true });
    },
  );

  // Static, so it wins over PUT /v1/favorites/:mechanic_id for the path /v1/favorites/order.
  app.put(
    '/v1/favorites/order',
    {
      ...common,
      schema: {
        tags,
        security: bearerSecurity,
        body: FavoritesOrderBody,
        response: { 200: z.array(FavoriteSchema), ...problems(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const outcome = await favorites.setOrder(request.principal.sub, request.body.mechanic_ids);
      if (outcome.ok) return outcome.favorites;
      const field = `mechanic_ids.${outcome.index}`;
      if (outcome.code === 'unknown_mechanic') {
        throw new HttpProblem(404, 'not_found', `${field}: no such mechanic`);
      }
      throw new HttpProblem(400, 'not_a_favorite', `${field} is not one of your favorites`, {}, [
        { in: 'body', field, message: 'not one of your favorites' },
      ]);
    },
  );

  app.delete(
    '/v1/favorites/:mechanic_id',
    {
      ...common,
      schema: {
        tags,
        security: bearerSecurity,
        params: MechanicIdParams,
        response: { 204: z.null(), ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => {
      await favorites.remove(request.principal.sub, request.params.mechanic_id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/favorites',
    {
      ...common,
      schema: { tags, security: bearerSecurity, response: { 200: z.array(FavoriteSchema), ...problems(401, 403) } },
    },
    async (request) => favorites.list(request.principal.sub),
  );

  app.get(
    '/v1/favorites/status',
    {
      ...common,
      schema: {
        tags,
        security: bearerSecurity,
        querystring: z.strictObject({ mechanic_id: z.uuid() }),
        response: { 200: z.object({ isFavorite: z.boolean() }), ...problems(400, 401, 403) },
      },
    },
    async (request) => ({ isFavorite: await favorites.isFavorite(request.principal.sub, request.query.mechanic_id) }),
  );
}
