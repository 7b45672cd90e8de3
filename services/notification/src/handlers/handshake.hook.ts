import { bearerToken, type Principal, REFUSAL_DETAIL, type RefusalReason, type TokenService } from '@dibs/auth';
import { isDbUnavailable } from '@dibs/db';
import { HttpProblem } from '@dibs/http';
import type { FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import type { Directory } from '../adapters/directory.repository.js';
import type { GatewayMetrics } from '../adapters/gateway.metrics.js';
import type { ConnectionHub } from '../connections/hub.js';
import { handshakeToken, originAllowed, upgradeRefusal } from '../domain/handshake.js';

/** Who a handshake authenticated as; set by the hook, read by the socket handler. */
export interface HandshakeIdentity {
  principal: Principal & { role: 'mechanic' | 'customer' };
  approved: boolean;
  /** Frees the connection slot reserved for this mechanic (idempotent). */
  release(): void;
}

declare module 'fastify' {
  interface FastifyRequest {
    gateway?: HandshakeIdentity;
  }
}

export interface HandshakeDeps {
  tokens: TokenService;
  directory: Directory;
  hub: ConnectionHub;
  metrics: GatewayMetrics;
  allowedOrigins: readonly string[];
  maxConnectionsPerMechanic: number;
  isDraining(): boolean;
}

const TOKEN_DETAIL: Record<RefusalReason, string> = {
  ...REFUSAL_DETAIL,
  missing: 'a token is required: Authorization: Bearer <token>, or ?token=',
};

/**
 * Runs before the upgrade: anything refused here is answered with a plain HTTP problem (401,
 * 403, 429 or 503) and the socket is never upgraded (CONTRACT §4).
 */
export function handshakeHook(deps: HandshakeDeps): preValidationAsyncHookHandler {
  const { tokens, directory, hub, metrics } = deps;
  const refuse = (status: number, code: string, detail: string, headers: Record<string, string> = {}): never => {
    metrics.handshakeRejections.inc({ status: String(status) });
    throw new HttpProblem(status, code, detail, headers);
  };

  return async function authenticateHandshake(request: FastifyRequest) {
    if (deps.isDraining())
      refuse(503, 'shutting_down', 'this gateway is restarting; connect again', { 'retry-after': '1' });
    if (!originAllowed(request.headers.origin, deps.allowedOrigins)) {
      refuse(403, 'origin_not_allowed', 'this Origin may not open the WebSocket');
    }
    const result = await tokens.verify(handshakeToken(bearerToken(request.headers.authorization), request.query));
    if (!result.ok) {
      const code = result.reason === 'missing' ? 'unauthenticated' : `token_${result.reason}`;
      refuse(401, code, TOKEN_DETAIL[result.reason], { 'www-authenticate': 'Bearer' });
      return;
    }
    const { principal } = result;
    if (principal.role === 'admin') {
      refuse(403, 'forbidden', 'the WebSocket is for mechanic and customer tokens');
      return;
    }
    const role = principal.role;
    let row: { exists: boolean; approved: boolean } = { exists: false, approved: false };
    try {
      row = await directory.principal(role, principal.sub);
    } catch (err) {
      if (!isDbUnavailable(err)) throw err;
      refuse(503, 'unavailable', 'a backing service is unavailable; retry shortly', { 'retry-after': '5' });
    }
    if (!row.exists) {
      refuse(401, 'unknown_principal', `no ${role} ${principal.sub} exists`, { 'www-authenticate': 'Bearer' });
    }
    // Who is asking first, then whether the upgrade itself is well-formed (as for a body).
    const malformed = request.ws ? upgradeRefusal(request.headers) : undefined;
    if (malformed) refuse(400, 'bad_handshake', malformed.detail, malformed.headers);
    let release = () => {};
    if (role === 'mechanic') {
      if (hub.slotsTaken(principal.sub) >= deps.maxConnectionsPerMechanic) {
        refuse(429, 'too_many_connections', `at most ${deps.maxConnectionsPerMechanic} connections per mechanic`, {
          'retry-after': '5',
        });
      }
      const socket = request.raw.socket;
      const free = hub.reserve(principal.sub);
      // A handshake that dies before the upgrade completes must not keep its slot; once upgraded
      // the listener goes (it would otherwise live as long as the socket).
      const onClose = () => free();
      socket.once('close', onClose);
      release = () => {
        socket.removeListener('close', onClose);
        free();
      };
    }
    request.gateway = { principal: { ...principal, role }, approved: row.approved, release };
  };
}
