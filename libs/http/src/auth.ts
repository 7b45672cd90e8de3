import { bearerToken, type Principal, REFUSAL_DETAIL, type Role, type TokenService } from '@dibs/auth';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { HttpProblem } from './problem.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

export interface AuthOptions {
  tokens: TokenService;
  /** Whether the customer/mechanic a token names still exists (admins have no rows). */
  principalExists: (principal: Principal) => Promise<boolean>;
}

/**
 * Builds `authorize(...roles)`: an `onRequest` hook that accepts only a valid bearer token of one
 * of `roles` naming an existing user (401 for a bad token, 403 for a wrong role). It runs before
 * the body is read or validated, so a bad token or a wrong role gets 401/403 whatever the body
 * (CONTRACT §3: identity and role first).
 */
export function createAuthorizer({ tokens, principalExists }: AuthOptions) {
  return function authorize(...roles: Role[]): onRequestAsyncHookHandler {
    return async function authorizeRequest(request: FastifyRequest, _reply: FastifyReply) {
      const token = bearerToken(request.headers.authorization);
      const result = await tokens.verify(token);
      if (!result.ok) {
        const code = result.reason === 'missing' ? 'unauthenticated' : `token_${result.reason}`;
        throw new HttpProblem(401, code, REFUSAL_DETAIL[result.reason], { 'www-authenticate': 'Bearer' });
      }
      if (!roles.includes(result.principal.role)) {
        throw new HttpProblem(403, 'forbidden', `this route is for ${roles.join(' or ')} tokens`);
      }
      if (result.principal.role !== 'admin' && !(await principalExists(result.principal))) {
        throw new HttpProblem(401, 'unknown_principal', `no ${result.principal.role} ${result.principal.sub} exists`, {
          'www-authenticate': 'Bearer',
        });
      }
      request.principal = result.principal;
    };
  };
}

/** The OpenAPI security requirement for bearer-protected routes. */
export const bearerSecurity = [{ bearer: [] as string[] }];
