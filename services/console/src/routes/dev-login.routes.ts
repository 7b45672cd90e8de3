import type { TokenService } from '@dibs/auth';
import { fieldProblem, type HttpApp } from '@dibs/http';
import { z } from 'zod';

/** How long a development sign-in lasts (capped by AUTH_MAX_TOKEN_TTL, which the services enforce). */
const DEV_TOKEN_SECONDS = 8 * 3600;

const DevTokenBody = z.strictObject({
  role: z.enum(['admin', 'mechanic', 'customer']),
  /** Whom the token names; an admin may leave it out (any uuid will do). */
  sub: z.uuid().optional(),
});

/**
 * `POST /dev/token`: a token for any role, signed with the services' secret, so a developer can
 * sign in without minting one by hand. Registered only outside production (runtime-config.ts);
 * a mechanic's or customer's token still works only for a row that exists.
 */
export function registerDevLogin(app: HttpApp, tokens: TokenService, maxTtlSeconds: number): void {
  const ttl = Math.min(DEV_TOKEN_SECONDS, maxTtlSeconds);
  app.post(
    '/dev/token',
    {
      schema: {
        body: DevTokenBody,
        response: { 200: z.object({ token: z.string(), role: z.string(), sub: z.uuid(), expires_at: z.string() }) },
      },
    },
    async (request) => {
      const { role } = request.body;
      if (role !== 'admin' && !request.body.sub) throw fieldProblem('body', 'sub', `a ${role} token names its ${role}`);
      const sub = request.body.sub ?? crypto.randomUUID();
      const token = await tokens.sign({ role, sub }, ttl);
      request.log.info({ role, sub }, 'development sign-in');
      return { token, role, sub, expires_at: new Date(Date.now() + ttl * 1000).toISOString() };
    },
  );
}
