import { bearerSecurity, fieldProblem, type HttpApp } from '@dibs/http';
import type { onRequestAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { DirectoryKey, MechanicDirectoryRepository } from '../repositories/mechanic-directory.repository.js';
import { MechanicListItemSchema, problems } from './schemas.js';

const DirectoryQuery = z.strictObject({
  /** Part of the name ("first last"), case-insensitive; empty: everyone. */
  query: z.string().trim().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(600).optional(),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Opaque, URL-safe `next_cursor`: the sort key of a page's last mechanic. */
function encodeKey(key: DirectoryKey): string {
  return Buffer.from(JSON.stringify([key.last, key.first, key.id]), 'utf8').toString('base64url');
}

/** The key in a cursor this route issued; undefined for anything else. */
function decodeKey(text: string): DirectoryKey | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 3) return undefined;
    const [last, first, id] = value as unknown[];
    if (typeof last !== 'string' || typeof first !== 'string' || typeof id !== 'string' || !UUID.test(id)) {
      return undefined;
    }
    // A cursor is only ever made from stored names, so it holds nothing a text column cannot.
    if (`${last}${first}`.includes('\u0000')) return undefined;
    return { last, first, id };
  } catch {
    return undefined;
  }
}

/** The directory of approved mechanics that customers pick favorites from (CONTRACT §8). */
export function registerMechanicRoutes(
  app: HttpApp,
  {
    customerOrAdmin,
    directory,
  }: { customerOrAdmin: onRequestAsyncHookHandler; directory: MechanicDirectoryRepository },
): void {
  app.get(
    '/v1/mechanics',
    {
      onRequest: customerOrAdmin,
      schema: {
        tags: ['mechanics'],
        security: bearerSecurity,
        querystring: DirectoryQuery,
        response: {
          200: z.object({ items: z.array(MechanicListItemSchema), next_cursor: z.string().nullable() }),
          ...problems(400, 401, 403),
        },
      },
    },
    async (request) => {
      const { query, limit, cursor } = request.query;
      const after = cursor === undefined ? undefined : decodeKey(cursor);
      if (cursor !== undefined && !after) {
        throw fieldProblem('querystring', 'cursor', 'is not a cursor this API issued');
      }
      // One extra row tells whether another page exists.
      const rows = await directory.list({ query: query || undefined, limit: limit + 1, after });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map((r) => r.entry),
        next_cursor: rows.length > limit && last ? encodeKey(last.key) : null,
      };
    },
  );
}
