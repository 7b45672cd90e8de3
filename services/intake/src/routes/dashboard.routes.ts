import { bearerSecurity, type HttpApp } from '@dibs/http';
import type { onRequestAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { FavoritesRepository } from '../repositories/favorites.repository.js';
import { FavoritedBySchema, problems } from './schemas.js';

/**
 * The mechanic's dashboard (CONTRACT §7) as far as intake holds it: who favorited them. The
 * numbers (`/v1/mechanics/me/stats`) are analytics' (commands.routes.ts).
 */
export function registerDashboardRoutes(
  app: HttpApp,
  { mechanicOnly, favorites }: { mechanicOnly: onRequestAsyncHookHandler; favorites: FavoritesRepository },
): void {
  app.get(
    '/v1/mechanics/me/favorited-by',
    {
      onRequest: mechanicOnly,
      schema: {
        tags: ['mechanics'],
        security: bearerSecurity,
        response: { 200: z.array(FavoritedBySchema), ...problems(401, 403) },
      },
    },
    async (request) => favorites.favoritedBy(request.principal.sub),
  );
}
